"""Patterns of the suggested CRM updates in English, Russian and Polish: data only, compiled by ``suggestions``.

General words only: job titles, decision-making roles, and how a client says a deal was signed or lost.
Every fragment is matched against lower-cased text, one alternation per tuple.
"""

# A title that makes its holder a decision maker (owner, chief executive, director, head of purchasing).
DECISION_ROLE = (
    # en
    r"\b(?:ceo|cfo|coo|cpo|chief [a-z]+ officer|(?:co-?)?founder|(?:co-?)?owner|president|vice president|vp|"
    r"managing director|general manager|[a-z]+ director|director|board member|managing partner|"
    r"head of (?:purchasing|procurement|buying|sourcing|supply|operations|logistics)|"
    r"(?:purchasing|procurement) (?:director|manager|lead|head)|decision[- ]maker)\b",
    # ru
    r"(?:генеральн\w+ директор\w*|\bдиректор\w*|владел\w+|собственник\w*|основател\w+|учредител\w+|"
    r"председател\w+|(?:руководител\w+|начальник\w*) (?:отдела |службы )?(?:закуп\w*|снабжени\w*|логистик\w*)|"
    r"руководител\w+ компании|принима\w+ решени\w*)",
    # pl
    r"(?:\bprezes\w*|\bdyrektor\w*|właściciel\w*|współwłaściciel\w*|założyciel\w*|członek zarządu|"
    r"(?:kierownik\w*|szef\w*) (?:działu )?(?:zakupów|zaopatrzenia|logistyki)|decydent\w*|podejmuje decyzj\w*)",
)

# A job title of any rank: what makes a signature line a title rather than a company or an address.
TITLE = (
    # en
    r"\b(?:manager|director|head|chief|officer|specialist|engineer|assistant|coordinator|analyst|buyer|"
    r"accountant|consultant|representative|lead|executive|administrator|owner|founder|president|partner|"
    r"secretary|ceo|cfo|coo|cto|vp)\b",
    # ru
    r"(?:менеджер\w*|директор\w*|руководител\w+|начальник\w*|специалист\w*|инженер\w*|бухгалтер\w*|"
    r"ассистент\w*|секретар\w+|координатор\w*|аналитик\w*|закупщик\w*|снабженец|владел\w+|основател\w+|"
    r"заместител\w+|консультант\w*|представител\w+)",
    # pl
    r"(?:kierownik\w*|dyrektor\w*|prezes\w*|specjalist\w*|inżynier\w*|księgow\w*|asystent\w*|sekretar\w+|"
    r"koordynator\w*|analityk\w*|zaopatrzeniow\w*|właściciel\w*|założyciel\w*|konsultant\w*|przedstawiciel\w*|"
    r"handlow\w*|menedżer\w*|\bszef\w*)",
)

# A company line of a signature ("ООО «Альфа»", "Bałtyk Sp. z o.o.", "Harbor Ltd"): never a title.
COMPANY = (
    r"\b(?:ltd|llc|inc|gmbh|plc|corp|co\.|s\.a\.|sp\. z o\.o\.|sp\.k|ag|bv|oy|ab)(?:\W|$)",
    r"(?:\bооо\b|\bоао\b|\bзао\b|\bпао\b|\bао\b|\bип\b|[«\"])",
)

# Someone named as the decision maker ("Anna Nowak is the decision maker", "решение принимает Иван Петров").
# ``{name}`` is replaced by a group capturing a person's name (two or three capitalized words).
DECISION_STATEMENT = (
    # en
    r"{name} (?:is|will be) (?:the|our) (?:final |key )?decision[- ]maker",
    r"(?:the |our )?(?:final )?decision[- ]maker (?:is|will be) {name}",
    r"(?:the )?(?:final )?decision (?:is|lies|rests) with {name}",
    # ru
    r"(?:окончательное )?решени\w* (?:принимает|примет|будет принимать) {name}",
    r"{name} (?:принимает|примет) (?:окончательное )?решени\w*",
    # pl
    r"(?:ostateczn\w+ )?decyzj\w* (?:podejmuje|podejmie|będzie podejmować) {name}",
    r"{name} (?:podejmuje|podejmie) (?:ostateczn\w+ )?decyzj\w*",
)

# The client says the deal was signed: the deal is won.
SIGNED_DEAL = (
    # en
    r"\bwe(?:'ve| have)? (?:just |now |finally |today )?signed\b",
    r"\b(?:the |our )?(?:contract|agreement) (?:is|has been|was) (?:now )?(?:signed|countersigned)\b",
    r"\bsigned (?:contract|agreement) is attached\b",
    # ru
    r"(?<!не )\b(?:мы )?подписали (?:договор|контракт|соглашение)",
    r"(?:договор|контракт|соглашение) (?:уже )?подписан\b",
    # pl
    r"(?<!nie )\bpodpisaliśmy (?:umowę|kontrakt)",
    r"\bumowa (?:została |jest )?(?:już )?podpisana\b",
)

# The client says they chose someone else or will not go on: the deal is lost.
LOST_DEAL = (
    # en
    r"\bwe(?:'ve| have)? (?:decided to (?:go|work) with|chosen|chose|selected|picked|went with|gone with|"
    r"decided on) (?:another|a different|an(?:other)? alternative) (?:supplier|vendor|provider|partner)\b",
    r"\bwe(?:'ve| have)? decided not to (?:proceed|go ahead|move forward)\b",
    # ru
    r"(?<!не )\b(?:мы )?(?:выбрали|выбираем) друг\w+ (?:поставщик\w*|подрядчик\w*|партн[её]р\w*)",
    r"(?:решили|будем) работать с друг\w+ (?:поставщик\w*|подрядчик\w*|партн[её]р\w*)",
    r"(?:отказываемся|решили отказаться) от (?:вашего |вашей )?(?:предложени\w*|сотрудничеств\w*)",
    # pl
    r"(?<!nie )\bwybraliśmy inn\w+ (?:dostawc\w+|wykonawc\w+|partner\w*|ofert\w+)",
    r"\bzdecydowaliśmy się na inn\w+ (?:dostawc\w+|wykonawc\w+|partner\w*|ofert\w+)",
    r"\b(?:rezygnujemy|zrezygnowaliśmy) z (?:państwa |waszej )?(?:oferty|współpracy)",
)

# The role a person named as the decision maker gets, in the message's language.
DECISION_MAKER_TITLE = {"en": "decision maker", "ru": "лицо, принимающее решение", "pl": "decydent"}
