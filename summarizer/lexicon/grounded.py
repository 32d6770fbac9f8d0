"""Patterns of the grounded engine in English, Russian and Polish: data only, compiled by ``extract``.

Each tuple holds regular-expression fragments (matched case-insensitively, one alternation per
tuple); comments name the language. Editing a tuple changes the notes: bump ``RULES_VERSION``.
"""

RULES_VERSION = 1

# ------------------------------------------------------------------ promises, requests, done

# Someone commits to act: first person future, or a named party's future on the writer's behalf.
PROMISE = (
    # en
    r"\b(?:i|we)\s*(?:'ll|’ll|\s+will|\s+shall|\s+am going to|\s+are going to)\b",
    r"\blet me\b", r"\b(?:he|she|they|our \w+) will\b",
    r"\bwill (?:send|call|fix|deliver|ship|prepare|confirm|get back|follow up|pay)\b",
    # ru
    r"\b(?:пришл[юёе]м?|вышл[юе]м?|отправлю|отправим|направлю|направим|подготовлю|подготовим|"
    r"позвоню|позвоним|перезвоню|перезвоним|сообщу|сообщим|подтвержу|подтвердим|зафиксирую|"
    r"зафиксируем|согласуем|оплатим|свяжусь|свяжемся|вернусь|верн[её]мся|уточню|уточним|"
    r"предоставлю|предоставим|проверю|проверим|сделаю|сделаем|доставим|заменим|вернём|вернем)\b",
    r"\b(?:приедет|откатит|позвонит|свяжется|пришл[её]т|отправит|подготовит|привез[её]т|доставит)\b",
    # pl
    r"\b(?:wyślę|wyślemy|prześlę|prześlemy|przygotuję|przygotujemy|zadzwonię|zadzwonimy|"
    r"potwierdzę|potwierdzimy|sprawdzę|sprawdzimy|odpiszę|odpowiem|odpowiemy|dostarczymy|"
    r"wymienimy|odeślę|odeślemy|dam znać|damy znać|zapłacimy|opłacimy|zrobię|zrobimy|przekażę|"
    r"przekażemy|wrócę|wrócimy)\b",
    r"\b(?:odbierze|przyjedzie|zadzwoni|wyśle|przygotuje|dostarczy|wymieni)\b",
)

# The writer asks the other side to act: the action belongs to the other side.
REQUEST = (
    # en
    r"\b(?:please|could you|can you|would you|kindly)\b[^.?!]{0,40}?\b(?:send|confirm|call|prepare|"
    r"provide|share|deliver|sign|return|escalate|let (?:me|us) know|get back|charge|check)\b",
    # ru
    r"\b(?:пришлите|вышлите|отправьте|направьте|подтвердите|сообщите|перезвоните|подпишите|прошу|"
    r"просим|ждём|ждем)\b",
    # pl
    r"\b(?:proszę o|prosimy o|proszę (?:przesłać|wysłać|potwierdzić|zadzwonić|odesłać)|prosimy|"
    r"czekamy na|prześlijcie|wyślijcie|proszę pana|proszę panią)\b",
)

# Something promised was done: sent, attached, delivered.
DONE = (
    # en
    r"\b(?:sent|attached|enclosed|here is|here's|please find|shipped|delivered|done|completed)\b|^confirmed\b",
    # any language: a sentence that opens with the deliverable and a colon ("Quote: ...", "Иван, КП на ...:")
    r"^(?:[^\W\d_]+,\s+)?(?:quote|offer|proposal|oferta|wycena|предложение|кп)\b[^.?!:]{0,60}:",
    # ru
    r"\b(?:отправил[аи]?|отправлен[аоы]?|направляю|направляем|высылаю|высылаем|во вложении|"
    r"в приложении|прикладываю|готово|сделано|подписан[аоы]?|подтверждаю|подтверждаем)\b",
    # pl
    r"\b(?:wysłałe[mś]|wysłałam|wysłaliśmy|przesyłam|przesyłamy|w załączeniu|załączam|gotowe|"
    r"zrobione|wysłan[aey]|podpisan[aey]|potwierdzam|potwierdzamy)\b",
)

# The other side's part was done: we received what they owed (or they received ours).
RECEIVED = (
    r"\b(?:received|got it)\b",
    r"\b(?:получил[аи]?|получен[аоы]?)\b",
    r"\b(?:otrzymał\w*|otrzymaliśmy|otrzyman[aey])",
)

# What an action is about; the first concept named in a sentence is its topic, so that a later
# "contract attached" can mark "I will send the contract" done. Order: (concept, pattern).
CONCEPTS = (
    ("contract", r"\b(?:contract|договор\w*|umow\w*|скан\w*|skan\w*|scan\w*)"),
    ("quote", r"\b(?:quote|quotation|offer|proposal|price list|кп|коммерческ\w* предложени\w*|"
              r"предложени\w*|ofert\w*|wycen\w*|cennik\w*)"),
    ("invoice", r"\b(?:invoice\w*|сч[её]т\w*|faktur\w*)"),
    ("payment", r"\b(?:pay|payment|prepayment|paid|оплат\w*|предоплат\w*|плат[её]ж\w*|płatnoś\w*|"
                r"zapłac\w*|przedpłat\w*)"),
    ("discount", r"\b(?:discount\w*|скидк\w*|rabat\w*|zniżk\w*)"),
    ("delivery", r"\b(?:deliver\w*|shipping|ship|ships|tracking|доставк\w*|поставк\w*|отгрузк\w*|"
                 r"dostaw\w*|wysyłk\w*|kurier\w*|courier)"),
    ("documents", r"\b(?:guide|documentation|manual|инструкци\w*|документаци\w*|instrukcj\w*|"
                  r"dokumentacj\w*)"),
    ("order", r"\b(?:order\w*|заказ\w*|zamówieni\w*)"),
    ("budget", r"\b(?:budget\w*|бюджет\w*|budżet\w*)"),
    ("replacement", r"\b(?:replace\w*|замен\w*|wymian\w*|wymienimy)"),
    ("meeting", r"\b(?:meeting|встреч\w*|spotkani\w*)"),
    ("call", r"\b(?:call|созвон\w*|позвон\w*|перезвон\w*|звон\w*|zadzwoni\w*|rozmow\w*)"),
)

# ------------------------------------------------------------------ risks

# Complaints and escalations (client side or our notes).
COMPLAINT = (
    # en
    r"\b(?:not satisfied|dissatisfied|unsatisfied|unhappy|disappointed|complain\w*|escalat\w*|"
    r"broken|damaged|defective|faulty|not working|stopped (?:working|syncing)|doesn't work|"
    r"does not work|delay(?:ed|s)?|late delivery|unacceptable|refund|still no)\b",
    # ru
    r"\b(?:жалоб\w*|претензи\w*|недовол\w*|слома\w*|не работа\w*|не включа\w*|задерж\w*|опозда\w*|"
    r"простаива\w*|простой|брак\w*|неисправ\w*|компенсац\w*)",
    # pl
    r"\b(?:reklamacj\w*|skarg\w*|niezadowol\w*|uszkodz\w*|pęknię\w*|opóźni\w*|nie działa\w*|"
    r"zepsu\w*|wadliw\w*)",
)

# A complaint is over. Strong markers alone; weak ones ("closed") only next to a complaint word.
RESOLVED_STRONG = (
    r"\b(?:works again|working again|sync again|resolved|fixed|issue is solved|works (?:great|fine|well)|"
    r"all good now)\b",
    r"(?<!не )\b(?:работают|работает)\b|\b(?:устранен\w*|исправлен\w*)",
    r"(?<!nie )\b(?:działają|działa)\b|\b(?:naprawion\w*|rozwiązan\w*)",
)
RESOLVED_WEAK = (
    r"\b(?:closed|closing|solved)\b",
    r"\b(?:закрыва\w*|закрыт\w*|решен\w*)",
    r"\b(?:zamknię\w*|zamyka\w*)",
)

# Competitors: generic phrases; named competitors come from the engine's configuration.
COMPETITOR = (
    # en
    r"\b(?:competitor\w*|offer from|another (?:provider|supplier|vendor)|other (?:providers?|"
    r"suppliers?|vendors?)|cheaper elsewhere|comparing offers|went with)\b",
    # ru
    r"\b(?:конкурент\w*|друг\w* поставщик\w*|предложение от|у других дешевле)",
    # pl
    r"\b(?:konkurencj\w*|konkurent\w*|ofert\w* od|inn\w* dostawc\w*|taniej u)",
)

# Our own notes flagging a risk or a churn signal.
WARNING = (
    r"\b(?:risk\w*|churn\w*|cooling|at risk)\b",
    r"\b(?:риск\w*|отток\w*|охлажд\w*)",
    r"\b(?:ryzyk\w*|odpływ\w*|ochłodzeni\w*)",
)

# Rare, critical mentions: people leaving, new bosses, budget cuts, company events.
CRITICAL = (
    # en
    r"\b(?:retir\w*|leaving the company|left the company|leaves the company|moved to (?:our|another|"
    r"a new)|took over|taking over|new (?:director|ceo|cfo|head|manager|owner|boss)|budget cuts?|"
    r"cut (?:the|our) budget|bankrupt\w*|insolven\w*|merger|acquired by|acquisition|"
    r"reorgani[sz]ation|layoffs?|restructur\w*)\b",
    # ru
    r"\b(?:пенси\w*|увольня\w*|уволил\w*|уходит из компании|покидает компанию|новый (?:директор|"
    r"руководитель|гендиректор)|смен\w* руководств\w*|сократили бюджет|сокращени\w* бюджет\w*|"
    r"урезал\w* бюджет\w*|банкрот\w*|реорганизац\w*|слияни\w*|поглощени\w*)",
    # pl
    r"\b(?:emerytur\w*|odchodzi z firmy|odszedł z firmy|odejdzie z firmy|nowy (?:dyrektor|prezes|"
    r"kierownik)|now\w* zarząd\w*|zmian\w* zarządu|cięci\w* budżet\w*|obcię\w* budżet\w*|"
    r"upadłoś\w*|restrukturyzac\w*|fuzj\w*|przejęci\w* przez)",
)

# ------------------------------------------------------------------ status, agreement, purchase

STATUS = (
    # en
    r"\b(?:approved|not ready to decide|waiting for|we are comparing|under review|on hold|"
    r"decision (?:after|by|pending|is)|in approval|not (?:yet )?approved|accepted|went with)\b",
    # ru
    r"\b(?:одобр\w*|утвердил\w*|утвержд\w*|не утвердили|согласовали|ждём решени\w*|ждем решени\w*|"
    r"на согласовании|пока не (?:готовы|решили)|рассматриваем|отложили|принимаем предложение)",
    # pl
    r"\b(?:zatwierdz\w*|zaakceptow\w*|w akceptacji|decyzja po|czekamy na decyzj\w*|"
    r"jeszcze nie zdecydowal\w*|porównujemy|wstrzyma\w*|zgodził\w* się)",
)

AGREEMENT = (
    # en
    r"\b(?:agreed|we agree|deal|works for us|all in works|it's a deal)\b",
    # ru
    r"\b(?:договорились|согласны|подтверждаю|подтверждаем|проходит|по рукам)\b",
    # pl
    r"\b(?:zgoda|zgadzamy się|uzgodnion\w*|akceptujemy|potwierdzam|potwierdzamy|deal)\b",
)

INTEREST = (
    # en
    r"\b(?:interested in|interest in|would like to (?:try|buy|order)|we'd like to try|looking for|"
    r"need (?:\d+|more|another|new)|we'll need)\b",
    # ru
    r"\b(?:интересу\w*|интерес к|нужн[ыо]|хотим|планируем закупить)",
    # pl
    r"\b(?:zainteresowan\w*|interesuj\w*|szukamy|potrzebujemy|będziemy potrzebować|chcemy)",
)

PURCHASE = (
    # en
    r"\b(?:bought|purchased|ordered|placed an order|we'll take|i'll take)\b",
    # ru
    r"\b(?:купил\w*|заказал\w*|приобрел\w*|приобрёл\w*)",
    # pl
    r"\b(?:kupił\w*|kupiliśmy|zamówił\w*|zamówiliśmy|zakupił\w*)",
)

# A product code such as NW-300, LP-40 or Care+; otherwise the words after the trigger.
PRODUCT_CODE = r"\b[A-ZА-Я][A-Za-zА-Яа-я]{0,5}-?\d{1,5}[A-Za-z]?\b|\b[A-Z][a-z]+\+"
PRODUCT_STOPWORDS = (
    "the", "a", "an", "our", "your", "some", "more", "of", "for", "to", "in", "and", "с", "для",
    "на", "и", "в", "по", "ваш", "ваши", "наш", "dla", "na", "i", "w", "do", "z", "o", "szt", "шт",
    "one", "it", "them", "this", "that", "these", "одну", "один", "это", "jedną", "jeden", "to",
)

# ------------------------------------------------------------------ people and preferences

# People and roles stated in a message body.
ROLE_STATEMENT = (
    # en
    r"\bi(?:'m| am) (?:the |a |an )?[\w ]{2,40}? (?:at|of|in)\b",
    r"\b(?:decision[- ]maker|took over|in charge of|responsible for|handles (?:payments|procurement|"
    r"purchasing|orders|invoices))\b",
    # ru
    r"\b(?:решени\w* [\w ]{0,30}?принима\w*|принимает решени\w*|отвечает за|ответственн\w* за|"
    r"я (?:—\s)?(?:руководитель|директор|менеджер))",
    # pl
    r"\b(?:decyzj\w* podejmuje|podejmuje decyzj\w*|odpowiada za|jestem (?:kierownikiem|dyrektorem|"
    r"prezesem|właścicielem))",
)

# A line of a signature that is a sign-off, not a name.
SIGN_OFF = (
    r"^(?:best|kind|warm)?\s*(?:regards|wishes)\b", r"^(?:cheers|thanks|thank you|sincerely|br)\b",
    r"^(?:с уважением|спасибо|всего доброго)", r"^(?:pozdrawiam|z poważaniem|serdecznie)",
    r"^mit freundlichen", r"^--\s*$",
)

PREFERENCE = (
    # en
    r"\b(?:prefers?|preferred|best (?:time|way) to reach|reach me|only by (?:e-?mail|phone)|"
    r"please (?:call|text|write)|call (?:me|only)|answers after|e-?mail for)\b",
    # ru
    r"\b(?:предпочита\w*|удобнее|лучше (?:писать|звонить)|звонить только|пишите|только (?:по|в) "
    r"(?:почт\w*|telegram|whatsapp|телеграм\w*))",
    # pl
    r"\b(?:woli|wolę|preferuje|proszę dzwonić|proszę pisać|najlepiej (?:dzwonić|pisać)|tylko mail)",
)

# ------------------------------------------------------------------ amounts and contacts

NUMBER = r"\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
MULTIPLIER = r"(?:\s?(?:k|K|тыс\.?|млн|mln|tys\.?|thousand|million)(?![\w]))?"
CURRENCY_BEFORE = r"[€$£₽]\s?|\b(?:USD|EUR|GBP|PLN|RUB|CHF|UAH)\s?"
CURRENCY_AFTER = (r"\s?(?:[€$£₽]|(?:zł|PLN|EUR|USD|GBP|RUB|CHF|UAH|руб(?:\.|лей|ля|ль)?|р\.|złotych|"
                  r"euro|dollars?|pounds?|евро|долларов)(?![\w]))")
EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
PHONE_CANDIDATE = r"\+?\(?\d[\d \-()\u00a0]{6,}\d"

# Abbreviations after which a full stop does not end a sentence ("36 szt. LP-40").
ABBREVIATIONS = ("szt", "шт", "ul", "np", "ds", "sp", "nr", "mr", "mrs", "ms", "dr", "st", "ca", "approx", "eg",
                 "ie", "vs", "ул", "им", "т")

# ------------------------------------------------------------------ deal events

DEAL_EVENT = (r"^Deal (?P<deal>.+?) moved to stage (?P<stage>[^:.]+?)"
              r"(?::\s*(?P<amount>[\d,.]+)(?:\s+(?P<currency>[A-Z]{3}))?)?\.(?:\s+Reason:\s*(?P<reason>.*))?$")
DEAL_CLOSED_STAGES = ("won", "closed won", "closed-won", "lost", "closed lost", "closed-lost")
DEAL_WON_STAGES = ("won", "closed won", "closed-won")

# ------------------------------------------------------------------ dates

# Relative phrases that dateparser resolves against the message time.
RELATIVE_DATE = (
    r"\b(?:today|tomorrow|day after tomorrow|next week|this week|in \d+ days|in a week|in two weeks)\b",
    r"\b(?:сегодня|послезавтра|завтра|на следующей неделе|на этой неделе|через неделю|через \d+ дн\w*)",
    r"\b(?:dzisiaj|dziś|pojutrze|jutro|w przyszłym tygodniu|w tym tygodniu|za \d+ dni)",
)
# Weekday names, Monday first, in the forms used after "by" / "до" / "do".
WEEKDAYS = (
    r"monday|понедельник\w*|poniedziałk\w*|poniedziałek",
    r"tuesday|вторник\w*|wtork\w*|wtorek",
    r"wednesday|сред[аыу]|środ[aęy]",
    r"thursday|четверг\w*|czwartk\w*|czwartek",
    r"friday|пятниц[аыу]|piątk\w*|piątek",
    r"saturday|суббот[аыу]|sobot[aęy]",
    r"sunday|воскресень[еяю]|niedziel[aęi]",
)
# The end of the current week (its Friday) or month, said without naming either.
WEEK_END = r"\b(?:end of (?:the |this )?week|конц[аеу] (?:этой )?недели|(?:koniec|końca|końcu) (?:tego )?tygodnia)"
THIS_MONTH_END = (r"\b(?:end of (?:the |this )?month|конц[аеу] (?:этого )?месяца|"
                  r"(?:koniec|końca|końcu) (?:tego )?miesiąca)")
MONTH_END = r"\b(?:end of|конц[ае]|końca|koniec)\s+(?:the\s+)?(?P<month>[^\W\d_]{3,12})"
MONTH_ALONE = r"\b(?:in|by|until|before|в|во|до|к|w|we|do|od|przed)\s+(?P<month>[^\W\d_]{3,12})\b"

# ------------------------------------------------------------------ tone

TONE_POSITIVE = (
    r"\b(?:thank\w*|great|perfect|excellent|appreciated?|glad|happy|pleased|wonderful|good)\b",
    r"\b(?:спасибо|благодар\w*|отлично|прекрасно|хорошо|рады|довольн\w*)",
    r"\b(?:dziękuj\w*|dzięki|świetn\w*|super|doskonal\w*|zadowolen\w*|cieszymy|miło)",
)
TONE_NEGATIVE = (
    r"\b(?:unfortunately|sadly|problems?|issues?|angry|frustrat\w*|not satisfied|disappointed|"
    r"unacceptable|broken|delay\w*)\b",
    r"\b(?:к сожалению|проблем\w*|ужасн\w*|плохо|недовольн\w*|претензи\w*|жалоб\w*)",
    r"\b(?:niestety|problem\w*|fatalnie|źle|niezadowol\w*|reklamacj\w*|skarg\w*)",
)
# Word counts of a client's reply: at most DRY is a dry reply, at least WARM a warm one.
DRY_REPLY_WORDS = {"email": 8, "chat": 3}
WARM_REPLY_WORDS = {"email": 25, "chat": 10}

# Speaker labels of call transcripts that are our side.
AGENT_SPEAKERS = ("agent", "operator", "manager", "менеджер", "оператор", "konsultant")
