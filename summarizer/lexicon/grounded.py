"""Patterns of the grounded engine in English, Russian and Polish: data only, compiled by ``extract``.

Each tuple holds regular-expression fragments (matched case-insensitively, one alternation per
tuple); comments name the language. Editing a tuple changes the notes: bump ``RULES_VERSION``.
"""

RULES_VERSION = 9  # 9: a price one side gives fulfils the quote or terms it owed in the weeks before

# ------------------------------------------------------------------ promises, requests, done

# Someone commits to act: first person future, or a named party's future on the writer's behalf.
PROMISE = (
    # en
    r"\b(?:i|we)\s*(?:'ll|’ll|\s+will|\s+shall|\s+am going to|\s+are going to|\s+plan (?:on|to))\b",
    r"\blet me (?!know)",
    r"\b(?:he|she|they|our \w+) will\b",
    r"\b(?:i|we)\s*(?:'d|’d|\s+would)\s+be\s+(?:happy|glad|pleased)\s+to\b",  # an offer is a promise
    r"\bwill (?:send|call|fix|deliver|ship|prepare|confirm|get back|follow up|pay)\b",
    # ru
    r"\b(?:пришл[юёе]м?|вышл[юе]м?|отправлю|отправим|направлю|направим|подготовлю|подготовим|"
    r"позвоню|позвоним|перезвоню|перезвоним|сообщу|сообщим|подтвержу|подтвердим|зафиксирую|"
    r"зафиксируем|согласуем|оплатим|свяжусь|свяжемся|вернусь|верн[её]мся|уточню|уточним|"
    r"предоставлю|предоставим|проверю|проверим|сделаю|сделаем|доставим|заменим|вернём|вернем|организую|организуем|"
    r"устрою|устроим|забронирую|забронируем)\b",
    r"\b(?:приедет|откатит|позвонит|свяжется|пришл[её]т|отправит|подготовит|привез[её]т|доставит)\b",
    r"\b(?:с удовольствием|будем рады|буду рада?)\s+(?:помо\w+|провер\w+|отправ\w+|пришл\w+|подготов\w+|рассмотр\w+)",
    # pl
    r"\b(?:wyślę|wyślemy|prześlę|prześlemy|przygotuję|przygotujemy|zadzwonię|zadzwonimy|"
    r"potwierdzę|potwierdzimy|sprawdzę|sprawdzimy|odpiszę|odpowiem|odpowiemy|dostarczymy|"
    r"wymienimy|odeślę|odeślemy|dam znać|damy znać|zapłacimy|opłacimy|zrobię|zrobimy|przekażę|"
    r"przekażemy|wrócę|wrócimy|zorganizuję|zorganizujemy|załatwię|załatwimy|zarezerwuję|zarezerwujemy)\b",
    r"\b(?:odbierze|przyjedzie|zadzwoni|wyśle|przygotuje|dostarczy|wymieni)\b",
)

# The writer asks the other side to act: the action belongs to the other side.
REQUEST = (
    # en
    r"\b(?:please|could you|can you|would you|kindly)\b[^.?!]{0,40}?\b(?:send|confirm|call|prepare|"
    r"provide|share|deliver|sign|return|escalate|let (?:me|us) know|get back|charge|check|include|e-?mail|post|"
    r"add|remove|update|fix|book|arrange|reserve|review|advise|dm|contact|text|tell)\b",
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
    r"\b(?:sent|attached|enclosed|here is|here's|please find|shipped|delivered|done|completed|"
    r"(?:has|have) been (?:reserved|booked|arranged|scheduled|signed|issued|refunded|forwarded|sent)|"
    r"(?:was|were) (?:signed|issued|refunded|forwarded|visited)|forwarded|visited|repaired|fixed (?:the|it)|"
    r"went through|(?:has|have) been processed)\b|^confirmed\b",
    # any language: a sentence that opens with the deliverable and a colon ("Quote: ...", "Иван, КП на ...:")
    r"^(?:[^\W\d_]+,\s+)?(?:quote|offer|proposal|oferta|wycena|предложение|кп)\b[^.?!:]{0,60}:",
    # ru
    r"\b(?:отправил[аи]?|отправлен[аоы]?|направляю|направляем|высылаю|высылаем|во вложении|"
    r"в приложении|прикладываю|готово|сделано|подписан[аоы]?|подтверждаю|подтверждаем|приезжал[аи]?|"
    r"приехал[аи]?|починил[аи]?|отремонтировал[аи]?|прош[её]л|поступил[аи]?|зачислен[аоы]?)\b",
    # pl
    r"\b(?:wysłałe[mś]|wysłałam|wysłaliśmy|przesyłam|przesyłamy|w załączeniu|załączam|gotowe|"
    r"zrobione|wysłan[aey]|podpisan[aey]|potwierdzam|potwierdzamy|przyjechał[aoy]?|naprawił[aoy]?|"
    r"naprawion[aey]|wpłynął|wpłynęł[aoy])\b",
)

# The other side's part was done: we received what they owed (or they received ours).
RECEIVED = (
    r"\b(?:received|got it|got (?:the|my|our|your))\b",
    r"\b(?:получил[аи]?|получен[аоы]?)\b",
    r"\b(?:otrzymał\w*|otrzymaliśmy|otrzyman[aey])",
)

# What an action is about; the first concept named in a sentence is its topic, so that a later
# "contract attached" can mark "I will send the contract" done. Order: (concept, pattern).
CONCEPTS = (
    ("contract", r"\b(?:contract|договор\w*|umow\w*|скан\w*|skan\w*|scan\w*)"),
    (
        "quote",
        r"\b(?:quote|quotation|offer|proposal|price list|кп|коммерческ\w* предложени\w*|"
        r"предложени\w*|ofert\w*|wycen\w*|cennik\w*|terms|pricing|prices|условия\w*|цены|warunki\w*|ceny)",
    ),
    ("invoice", r"\b(?:invoice\w*|сч[её]т\w*|faktur\w*)"),
    ("refund", r"\b(?:refund\w*|reimburs\w*|возврат\w*|zwrot\w*)"),
    (
        "payment",
        r"\b(?:pay|payment|prepayment|paid|оплат\w*|предоплат\w*|плат[её]ж\w*|płatnoś\w*|"
        r"zapłac\w*|przedpłat\w*|przedpłac\w*)",
    ),
    ("discount", r"\b(?:discount\w*|скидк\w*|rabat\w*|zniżk\w*)"),
    (
        "delivery",
        r"\b(?:deliver\w*|shipping|ship|ships|tracking|доставк\w*|поставк\w*|отгрузк\w*|"
        r"dostaw\w*|wysyłk\w*|kurier\w*|courier)",
    ),
    (
        "documents",
        r"\b(?:guide|documentation|manual|resume|résumé|cv|резюме|życiorys\w*|"
        r"инструкци\w*|документаци\w*|instrukcj\w*|"
        r"dokumentacj\w*)",
    ),
    ("order", r"\b(?:order\w*|заказ\w*|zamówieni\w*)"),
    ("budget", r"\b(?:budget\w*|бюджет\w*|budżet\w*)"),
    ("replacement", r"\b(?:replace\w*|замен\w*|wymian\w*|wymienimy)"),
    ("meeting", r"\b(?:meeting|встреч\w*|spotkani\w*)"),
    (
        "visit",
        r"\b(?:visit\w*|on[- ]site|визит\w*|приед\w*|приезж\w*|приехал\w*|выезд\w*|wizyt\w*|przyjed\w*|"
        r"przyjecha\w*)",
    ),
    (
        "booking",
        r"\b(?:reserv\w*|book(?:ed|ing)?|sedan|car|taxi|cab|hotel\w*|бронир\w*|забронир\w*|такси|"
        r"rezerwacj\w*|zarezerw\w*|taksówk\w*)",
    ),
    ("call", r"\b(?:call|созвон\w*|позвон\w*|перезвон\w*|звон\w*|zadzwoni\w*|rozmow\w*)"),
)

# A later message that settles an open action on the same subject: it was confirmed, moved, booked, done
# or cancelled (``merge`` closes the action when the message also shares its subject words).
SETTLED = (
    r"\b(?:confirm(?:ed|s)?|reschedul\w*|postponed|cancel+(?:ed|s)?|called off|moved to|set for|all set|"
    r"(?:is|are|was|were|has been|have been) (?:booked|reserved|arranged|scheduled|sent|done|fixed|resolved)|"
    r"booked|reserved|arranged|scheduled|see you (?:on|at|then)|works? (?:for|fine)|received|got it|done)\b",
    r"(?:подтвержд\w*|подтвер\w*|перенес\w*|перенос\w*|отмен\w*|забронир\w*|договорились|получил\w*|"
    r"готово|сделано|отправлен\w*|до встречи)",
    r"(?:potwierdz\w*|przełoż\w*|przesun\w*|odwoła\w*|zarezerw\w*|umówi\w*|otrzyma\w*|dostał\w*|gotowe|"
    r"zrobione|wysłan\w*|do zobaczenia)",
)
# What a won deal fulfils: the open actions about these concepts, on either side, said before it was won.
WON_DEAL_FULFILS = ("contract", "quote", "order", "discount")
# A deal stage that, like a won one, means the contract was signed ("contract signed", "подписан").
SIGNED_STAGE = r"\bsign\w*|подпис\w*|podpis\w*"
# A done sentence about the contract that says it was signed fulfils every earlier contract action, either side's.
SIGNED = r"\b(?:signed|countersigned|executed|подписан\w*|подписал\w*|podpisan\w*|podpisał\w*)"

# Words too common to tie two messages to one subject (``merge`` compares the rest, by their first letters).
SUBJECT_STOPWORDS = (
    "about",
    "after",
    "again",
    "their",
    "there",
    "these",
    "those",
    "which",
    "would",
    "could",
    "should",
    "please",
    "thank",
    "thanks",
    "where",
    "while",
    "other",
    "being",
    "doing",
    "going",
    "really",
    "still",
    "today",
    "tomorrow",
    "будет",
    "можно",
    "нужно",
    "спасибо",
    "пожалуйста",
    "сегодня",
    "завтра",
    "который",
    "которые",
    "będzie",
    "które",
    "który",
    "proszę",
    "dziękuję",
    "dzisiaj",
    "jutro",
    "można",
    "trzeba",
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
    r"all good now|refund\w* (?:went through|was issued|has been issued|arrived)|"
    r"(?:got|received) (?:the|my|our) refund)\b",
    r"(?<!не )\b(?:работают|работает)\b|\b(?:устранен\w*|исправлен\w*)",
    r"(?<!nie )\b(?:działają|działa)\b|\b(?:naprawion\w*|rozwiązan\w*)",
)
RESOLVED_WEAK = (
    r"\b(?:closed|closing|solved)\b",
    r"\b(?:закрыва\w*|закрыт\w*|решен\w*)",
    r"\b(?:zamknię\w*|zamyka\w*)",
)

# What a resolved incident fulfils: the remedies promised for it (``merge`` bounds it to recent promises).
RESOLUTION_FULFILS = ("refund", "replacement", "visit")

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
    r"decision (?:after|by|pending|is)|in approval|not (?:yet )?approved|accepted|went with|"
    r"not (?:interested in|looking for))\b",
    # ru
    r"\b(?:одобр\w*|утвердил\w*|утвержд\w*|не утвердили|согласовали|ждём решени\w*|ждем решени\w*|"
    r"на согласовании|пока не (?:готовы|решили)|рассматриваем|отложили|принимаем предложение|не интересу\w*|"
    r"не ищем)",
    # pl
    r"\b(?:zatwierdz\w*|zaakceptow\w*|w akceptacji|decyzja po|czekamy na decyzj\w*|"
    r"jeszcze nie zdecydowal\w*|porównujemy|wstrzyma\w*|zgodził\w* się|nie (?:jesteśmy )?zainteresowan\w*|"
    r"nie szukamy)",
)

AGREEMENT = (
    # en ("deal" alone or opening a reply; not "deal with it")
    r"\b(?:agreed|agrees|i agree|we agree|agree with|works for us|that works|sounds good|it's a deal|seconded|"
    r"(?:is|are|has been|have been) confirmed|confirmed for)\b|^(?:deal|confirmed)\b|\bdeal[!.]",
    # ru
    r"\b(?:договорились|согласны|подтверждаю|подтверждаем|проходит|по рукам)\b",
    # pl
    r"\b(?:zgoda|zgadzam się|zgadzamy się|uzgodnion\w*|akceptujemy|potwierdzam|potwierdzamy)\b|^deal\b",
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
    "the",
    "a",
    "an",
    "our",
    "your",
    "some",
    "more",
    "of",
    "for",
    "to",
    "in",
    "and",
    "с",
    "для",
    "на",
    "и",
    "в",
    "по",
    "ваш",
    "ваши",
    "наш",
    "dla",
    "na",
    "i",
    "w",
    "do",
    "z",
    "o",
    "szt",
    "шт",
    "one",
    "it",
    "them",
    "this",
    "that",
    "these",
    "одну",
    "один",
    "это",
    "jedną",
    "jeden",
    "to",
)

# ------------------------------------------------------------------ people and preferences

# People and roles stated in a message body.
ROLE_STATEMENT = (
    # en
    r"\bi(?:'m| am) (?:the |a |an )?(?:[\w-]+ ){0,3}?(?:ceo|cfo|cto|coo|director|manager|head|president|vp|partner|"
    r"founder|owner|assistant|chair|co-chair|specialist|engineer|officer|buyer|analyst|consultant|lead|coordinator|"
    r"secretary|accountant|counsel|editor|webmaster|administrator|representative)\b(?: (?:at|of|in|for)\b)?",
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
    r"^(?:best|kind|warm)?\s*(?:regards|wishes)\b",
    r"^(?:cheers|thanks|thank you|sincerely|br)\b",
    r"^(?:с уважением|спасибо|всего доброго)",
    r"^(?:pozdrawiam|z poważaniem|serdecznie)",
    r"^mit freundlichen",
    r"^--\s*$",
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
# Currencies a text spells as a word, and the code a summary in another language names them by.
CURRENCY_CODES = (
    ("RUB", r"руб(?:\.|лей|ля|ль)?|р\."),
    ("PLN", r"zł|złotych"),
    ("EUR", r"euro|евро"),
    ("USD", r"dollars?|долларов"),
    ("GBP", r"pounds?"),
)

CURRENCY_AFTER = (
    r"\s?(?:[€$£₽]|(?:PLN|EUR|USD|GBP|RUB|CHF|UAH|"
    + "|".join(pattern for _code, pattern in CURRENCY_CODES)
    + r")(?![\w]))"
)
EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
PHONE_CANDIDATE = r"\+?\(?\d[\d \-()\u00a0]{6,}\d"

# Abbreviations after which a full stop does not end a sentence ("36 szt. LP-40").
ABBREVIATIONS = (
    "szt",
    "шт",
    "ul",
    "np",
    "ds",
    "sp",
    "nr",
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "ca",
    "approx",
    "eg",
    "ie",
    "vs",
    "ул",
    "им",
    "т",
)

# ------------------------------------------------------------------ deal events

DEAL_EVENT = (
    r"^Deal (?P<deal>.+?) moved to stage (?P<stage>[^:.]+?)"
    r"(?::\s*(?P<amount>[\d,.]+)(?:\s+(?P<currency>[A-Z]{3}))?)?\.(?:\s+Reason:\s*(?P<reason>.*))?$"
)

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

# ------------------------------------------------------------------ quoted history and boilerplate

# A line that starts the quoted or forwarded history of an e-mail: everything after it is older mail.
# ("On ... wrote:" is not one: replies are written below "> " quotes as often as above them.)
REPLY_HEADER = (
    r"^-{2,}\s*(?:original message|forwarded by|forwarded message|пересылаемое сообщение|"
    r"исходное сообщение|oryginalna wiadomość|wiadomość przekazana)",
    r"^.{0,80}<[^<>\s]+@[^<>\s]+>\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}",  # Lotus Notes: Name <a@b> on 04/23/2001 ...
    r"^\s*[^<>\s@]+@[^<>\s@]+\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}",  # a@b on 05/09/2001 11:21 AM
    r"^from:\s.+\n(?:sent|date|to):",
)
# An inline attribution inside re-wrapped text ("At 08:38 PM 3/24/01, Ann wrote:").
ATTRIBUTION = r"(?:\b(?:on|at)\s[^.>]{0,100}?)?\b(?:wrote|написал\w*|napisał\w*)\s*:"
# Header residue of quoted mail: never a claim.
HEADER_LINE = r"^\s*(?:to|cc|bcc|from|sent|date|subject|temat|тема|от|кому|od|do|dw)\s*:"
HEADER_RESIDUE = (
    r"<[^<>\s]+@[^<>\s]+>\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}",
    r"^\s*(?:to|cc|bcc|from|sent|subject)\s*:",
    r"[^<>\s@]+@[^<>\s@]+\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}",
    r"\bplease respond to\b",
    r"-{2,}\s*(?:original message|forwarded by|forwarded message|пересылаемое сообщение|исходное сообщение|"
    r"oryginalna wiadomość|wiadomość przekazana)",
    r"\(fax\)|\bfax\b|\bфакс\b|\bfaks\b",
)

# Sentences that are courtesy, closing formulas or mailing-list furniture: no claim of their own.
BOILERPLATE = (
    # en
    r"\b(?:let (?:me|us) know if (?:you|there)|do not hesitate|don't hesitate|feel free to|look(?:ing)? forward to|"
    r"thank(?:s| you)(?: very much)? for|hope (?:this|that) helps|hope you are|hope all is well|"
    r"any (?:other |further )?questions|if you have (?:any )?questions|sorry for the|my apologies for|"
    r"unsubscribe|mailing list|list archives?|to be removed from|view (?:it )?in (?:your|a) browser|"
    r"all rights reserved|confidential(?:ity)? notice|intended (?:only )?for the|"
    r"have a (?:nice|great|good) (?:day|weekend)|how (?:can|may) (?:i|we) help)\b",
    # ru
    r"(?:если (?:у вас )?(?:будут|возникнут) вопросы|не стесняйтесь|обращайтесь|хорошего дня|"
    r"отписаться|рассылк\w*|благодарю за|спасибо за|чем (?:могу|можем) помочь)",
    # pl
    r"(?:w razie pytań|w razie wątpliwości|proszę o kontakt w razie|miłego dnia|wypisz się|"
    r"newsletter\w*|dziękuję za|dziękujemy za|w czym (?:mogę|możemy) pomóc)",
)

# A first-person future that is a personal remark, not a commitment ("I will be at home",
# "I will not be arriving until midnight", "I'll never ...").
PERSONAL_FUTURE = (
    r"\b(?:i|we)\s*(?:'ll|’ll|\s+will|\s+shall)\s+(?:not|never|"
    r"be (?:at|in(?! touch)|out|away|home|there|back|glad|happy|"
    r"pleased|traveling|travelling|arriving|on)|understand|probably|also be|take a|see you|talk to you)\b",
    r"\b(?:i|we)\s+(?:won't|won’t|will not|shall not)\b",
    r"\b(?:буду (?:дома|в офисе|рад|на месте)|не смогу|не буду)",
    r"\b(?:będę (?:w domu|w biurze|na miejscu)|nie będę|nie dam rady)",
)
# What a substantive commitment does: the verb or object that makes a future a promise.
COMMITMENT = (
    r"\b(?:send|call|fix|deliver|ship|prepare|confirm|get back|follow up|pay|refund|replace|sign|provide|review|"
    r"check|arrange|schedule|book|reserve|contact|forward|organi[sz]e|finish|complete|install|visit|investigate|"
    r"look into|escalate|update|share|submit|issue|post|e-?mail|have (?:a|the) \w+|set up|pick (?:you )?up|"
    r"be in touch|be back in touch|be (?:sending|calling|contacting|preparing|arranging)|try to|"
    r"work (?:something )?out|"
    r"include|including|add|remove|advise)\b",
)

# A customer says they will leave.
CHURN = (
    r"\b(?:never (?:\w+ )?(?:fly|buy|order|use|shop|come back|book)\b.{0,40}\bagain|never ever|"
    r"won't be (?:buying|using|ordering)|(?:stop|stopped) (?:buying|using|ordering)|ever again|"
    r"take (?:my|our|their) business|switch(?:ing)? to another|cancel (?:my|our) (?:account|contract|subscription))",
    r"(?:больше никогда|больше не будем|откажемся от ваших|уйдём к|уйдем к|расторгн\w* договор)",
    r"(?:nigdy więcej|więcej nie kupi\w*|rezygnujemy z|zrezygnujemy z|wypowiadamy umow\w*)",
)

# Meetings, calls and events, and what happens to them.
EVENT_NOUN = (
    r"\b(?:meeting|meet|conference call|call|telecon|dinner|lunch|breakfast|visit|tour|panel|session|presentation|"
    r"open house|event|appointment|webinar|workshop|demo|interview|flight|reception|conference|training)s?\b",
    r"(?:встреч\w*|созвон\w*|звон\w*|визит\w*|ужин\w*|обед\w*|презентаци\w*|семинар\w*|конференци\w*|"
    r"мероприяти\w*|демонстраци\w*|рейс\w*|экскурси\w*)",
    r"(?:spotkani\w*|rozmow\w*|wizyt\w*|kolacj\w*|obiad\w*|prezentacj\w*|seminari\w*|konferencj\w*|"
    r"wydarzeni\w*|pokaz\w*|lot\w*|szkoleni\w*)",
)
SCHEDULING = (
    r"\b(?:scheduled|rescheduled|postponed|cancel+ed|called off|moved to|(?:is|are|all|everything) set for|"
    r"is confirmed|confirmed for|will be held|takes place|will take place|begins? at|starts? at|invites? you|"
    r"(?:has|have) been (?:reserved|booked|arranged|scheduled)|reserved|booked|(?:have|has|had) (?:already )?met|"
    r"met with|would be (?:glad|happy|pleased) to|(?:is|are) welcome to|offer(?:ed|s)? (?:you|to))\b",
    r"(?:перенес\w*|отмен\w*|запланирован\w*|назначен\w*|состоится|подтвержд\w*|забронирован\w*|приглаша\w*)",
    r"(?:przełożon\w*|odwołan\w*|zaplanowan\w*|umówi\w*|odbędzie się|potwierdzon\w*|zarezerwowan\w*|zaprasza\w*)",
)
# A clock time ("8:45 a.m.", "7:15a", "at 11 AM", "16:00").
CLOCK_TIME = r"\b\d{1,2}[:.]\d{2}\s?(?:[ap]\.?m\.?|[ap]\b)?|\b\d{1,2}\s?[ap]\.?m\b\.?"
# A quantity or share stated as a figure: "47%", "17 acres", "24 votes".
QUANTITY = (
    r"\b\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b|процент\w*|proc\w*)|"
    r"(?<![\d/.\-])\b\d{2,}\s+(?!(?:am|pm|and|or|to|the|for|of|in|on|at|и|в|na|w|i)\b)[a-zа-яёąćęłńóśźż]{3,}"
)

# ------------------------------------------------------------------ what a claim names, in any language
# (``summarizer.facets``: a claim from a source in one language worded in another)

# A product code or a document number: "NW-300", "LP-40", "NW-2025-117", "Care+".
CODE = r"\b[A-ZА-Я][A-Za-zА-Яа-я]{0,5}-?\d{1,5}(?:-\d{1,6})*[A-Za-z]?\b|\b[A-Z][a-z]+\+"
# A figure of things: "120 шт.", "14 терминалов", "60 szt." (the counted word checked by ``facets``).
COUNT = r"(?<![\d.,:/-])\b(\d{1,6})\s+(шт\b\.?|szt\b\.?|pcs\b\.?|[^\W\d_]{3,})"
# A share: "7%", "10 процентов", "50 proc.".
SHARE = r"\b(\d{1,3}(?:[.,]\d{1,2})?)\s?(?:%|percent\b|per cent\b|процент\w*|proc\w*)"
# Something still to come: "not approved yet", "пока не утвердили", "jeszcze nie".
PENDING = r"\b(?:not yet|yet to|not \w+ yet|пока не|ещё не|еще не|jeszcze nie|na razie nie)\b"
# Approved or accepted: "quote approved", "утвердили", "zaakceptowali" (negated: pending).
APPROVED = (
    r"\b(?:approved|accepted|agreed)\b|\b(?:утверд\w*|утвержд\w*|одобр\w*|согласова\w*)|"
    r"\b(?:zatwierdz\w*|zaakceptowa\w*|zgodzi\w*)"
)
# Someone leaves: "is leaving", "retires", "уходит на пенсию", "odchodzi".
LEAVING = (
    r"\b(?:leav(?:es|ing)|retir(?:es|ing|ement)|steps? down|left the company)\b|"
    r"\b(?:уходит|уволь\w+|на пенсию|покида\w+)|\b(?:odchodzi\w*|na emerytur\w+|odszed\w+)"
)
# A person's name: two capitalized words ("Ольга Смирнова").
NAME = r"\b[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][a-zа-яёąćęłńóśźż]+\s[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][a-zа-яёąćęłńóśźż]+\b"
# Ways to reach someone, named in the reader's language by the labels' ``[facets.channels]``.
CHANNELS = (
    ("telegram", r"\btelegram\w*|\bтелеграм\w*"),
    ("whatsapp", r"\bwhats\s?app\b|\bватсап\w*"),
    ("phone", r"\b(?:phone|call|звон\w*|позвон\w*|телефон\w*|dzwoni\w*|dzwoń\w*|telefon\w*)"),
    ("email", r"\be-?mail\w*|\bпочт\w*|\bмейл\w*"),
)
# Roles a person's sentence states, named in the reader's language by the labels' ``[facets.roles]``.
ROLES = (
    (
        "decides",
        r"\bdecision[- ]maker|\bdecides|решени\w* [\w ]{0,30}?принима\w*|принимает решени\w*|"
        r"decyzj\w* podejmuje|podejmuje decyzj\w*",
    ),
    ("ceo", r"\bceo\b|генеральн\w* директор\w*|\bprezes\w*"),
    ("cfo", r"\bcfo\b|финансов\w* директор\w*|dyrektor\w* finansow\w*"),
    ("director", r"\bdirector\b|\bдиректор\w*|\bdyrektor\w*"),
    ("head", r"\bhead of\b|\bруководител\w*|\bkierownik\w*"),
    ("manager", r"\bmanager\b|\bменеджер\w*|\bmenedżer\w*"),
    ("responsible", r"\bresponsible for|\bin charge of|отвечает за|ответственн\w* за|odpowiada za"),
)

# Words that make an e-mail address or a phone number in a sentence a way to reach someone.
CONTACT_WORD = (
    r"\b(?:reach|call|phone|cell|mobile|contact|text|whatsapp|telegram|signal|e-?mail me|write to|number|dial)\w*",
    r"(?:звон\w*|телефон\w*|мобильн\w*|пиши\w*|напиши\w*|связ\w*|номер\w*)",
    r"(?:dzwoń\w*|dzwoni\w*|telefon\w*|komórk\w*|pisz\w*|napisz\w*|kontakt\w*|numer\w*)",
)
# Where something happens: a street address or a suite ("1400 Smith Street", "ul. Długa 5", "ул. Ленина, 3").
PLACE = (
    r"\b\d{1,5}\s+(?:[A-Z][\w.'-]*\s+){1,3}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.|Drive|Dr\.|Boulevard|Blvd\.?|"
    r"Lane|Way|Plaza|Square|Place)|\b(?:Suite|Floor|Room)\s+\d+|\b(?:ul\.|ул\.|al\.|пр\.)\s*[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ]\w+"
)
