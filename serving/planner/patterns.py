"""The rule-based planner's vocabulary: what words signal a refusal, a comparison, a breakdown, a ranking.

Kept apart from the planner's logic so a hospital can read (and extend) the phrases in one place.
"""

from __future__ import annotations

import re

REFUSALS = [
    (
        "injection",
        r"忽略(?:之前|以上|前面|上面|所有)?的?(?:指令|指示|提示|规则|设定)|"
        r"ignore (?:all |the |your |any |my )*(?:previous |above |prior |earlier )?(?:instructions|prompts?|rules)|"
        r"\bdump\b|raw .{0,20}(?:table|rows|records|data)|every row|\bfact_\w+|"
        r"(?:发|给|写|跑|执行|导出|提供|贴).{0,12}sql|sql.{0,10}(?:发|给)我|system prompt|系统提示词?|jailbreak|越狱|drop\s+table|delete\s+from|"
        r"select\s+\*|执行(?:sql|SQL|语句)|写.{0,4}sql|sql语句|(?:查|连|访问)数据库|数据库里|原始数据|原始明细|明细数据|明细表|"
        r"整张表?|raw data|导出(?:全部|所有)|导出.{0,12}(?:明细|记录|原始)",
        "我只能通过指标接口回答汇总后的运营指标，不能执行任意指令、运行 SQL 或导出原始数据。"
        "可以问我某个指标的数值、口径、趋势、排名或相关政策，例如“本年药占比是多少，同比如何”。",
    ),
    (
        "clinical_advice",
        r"怎么治疗?|如何治疗|治疗方案|用药建议|吃什么药|开什么药|用什么(?:药|抗生素|抗菌药)|该用什么|(?:能|可以)吃|吃多少|剂量|用量多少|诊断一下|是什么病|"
        r"首选(?:哪种|什么|哪个)|哪种(?:药|抗生素|抗菌药)|[打吃用]多少(?:合适|好|单位)|胰岛素|化疗|放疗|要不要停|停药|"
        r"换(?:成)?什么方案|(?:治疗|用药|化疗)方案|"
        r"发烧|(?<!发热)退烧|发热了|咳嗽|拉肚子|腹泻了|头疼|头痛|嗓子疼|喉咙痛|用什么[\u4e00-\u9fff]{0,3}药|吃什么[\u4e00-\u9fff]{0,3}药|这个病(?!人)|这病(?!人)|"
        r"要不要(?:住院|手术|吃药|打针|输液)|要不要(?:去)?(?:拍|做|查)(?:个|一下)?(?:片|胸片|CT|核磁|彩超|B超|检查)|"
        r"要不要.{0,4}[用吃打输换停]|拍(?:个)?(?:胸片|片子)|是不是得了|得了什么病|吃.{1,8}还是.{1,8}(?:好|效果)|失眠|胃疼|胃痛|"
        r"treat(?:ment)? for|what dose|dosage|diagnos",
        "我是医院运营助手，不提供诊断、治疗或用药建议，请咨询临床医生。"
        "可以问我运营指标或相关政策，例如某科室的平均住院日、抗菌药物使用强度。",
    ),
    (
        "patient_data",
        r"身份证|(?<!电子)病历(?!应用)|病案号|住院号|住院记录|就诊记录|名单|"
        r"(?:病人|患者)[张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤]"
        # a name is followed by 的, a verb or the end (病人白蛋白35克 names no one)
        r"(?:某某?|[\u4e00-\u9fff]{1,2})(?!蛋白)(?=的|，|,|。|是|在|住|做|花|这|那|上次|先生|女士|用|开|$)|"
        r"id numbers|names? (?:and|of) .{0,30}patients|patients?'? names|门诊号|手机号|联系电话|家庭住址|患者(?:姓名|名单|信息|隐私|明细)|病人(?:名单|姓名|信息)|"
        r"哪些(?:患者|病人)|(?:患者|病人)是谁|(?:患者|病人)都有(?:谁|哪些)|看过的(?:病人|患者)|列(?:出|一下|举)?.{0,20}的?(?:病人|患者)(?!.{0,6}(?:人次|数|占比|比例|率))|"
        r"(?:病人|患者)(?:清单|列表)|\d+\s*床|(?:那|这)个(?:病人|患者)|(?:病人|患者)的(?:费用)?明细|patient (?:names?|list|records?|ids?)|who (?:was|were) the patients?",
        "患者个人信息不会通过本助手提供：我只读取汇总后的指标，不含任何可识别患者身份的数据。"
        "可以问我全院、院区、科室或医生层面的汇总指标。",
    ),
]
# subjects far from hospital operations that would otherwise look like them (医药板块 has 药)
OFF_TOPIC = re.compile(
    r"股票|股市|炒股|板块|医药股|买哪只|基金经理|彩票|天气|菜谱|做菜|电影|旅游|笑话|写(?:一首)?诗|主持词|联欢|演讲稿|祝福语|"
    r"(?:写|起草|拟)(?:一份|一篇|个)?.{0,8}(?:述职|总结|作文|讲话稿|发言稿|心得|检讨|情书|小说)|"
    r"\bstocks?\b|weather|joke|poem|recipe|restaurant|world cup|\bnba\b|football|soccer|movie"
)
OUT_OF_SCOPE = (
    "这个问题超出了医院运营分析的范围。我可以回答指标数值（如药占比、次均费用、平均住院日）、"
    "指标口径、科室排名、同比环比，以及相关政策规定。"
)

POLICY = re.compile(
    r"政策|规定|要求|文件|文号|标准|达标|目标值?|红线|依据|条例|办法|通知|意见|限定支付|考核要求|上限|不超过|合规|"
    r"导向|越高越好|越低越好|监测指标|国家监测|考核指标|定量指标|定性指标|(?:在|属于|是不是)国考|国考(?:里|中|的指标)|"
    r"考不考|纳入考核|列入|达标线|权限|资格|有权|授权|"
    r"policy|regulation|rule|target|requirement|requires?\b|compliant"
)
TARGET_VALUE = re.compile(
    r"(?:目标值?|要求|标准|上限|下限|红线|规定|考核值)(?:是|为|定在|应该?(?:是|在)?|控制在|控制到)?(?:多少|几|什么)|"
    r"(?:控制在|控制到|不(?:得)?超过|不(?:得)?低于|降到)多少|"
    r"what(?: is|'s| are) the (?:target|requirement|limit|threshold)s?"
)
MEETS_TARGET = re.compile(r"达标|符合|满足|超标|合规|达到(?:了)?(?:目标|要求)|meets?|on target|complian")
EXPLAIN = re.compile(
    r"口径|怎么算|如何计算|怎么计算|怎样计算|如何算|计算方法|算法|计算公式|公式|定义|什么意思|是什么指标|指什么|含义|"
    r"区别|差别|差在哪|差异|有何不同|有什么不同|分子|分母|是否包括|包不包括|包括.{0,20}吗|算不算|计不计入|"
    r"how is .* (?:calculated|computed)|definition|define|explain|what does .{1,40} mean|meaning of"
)
LIST_INDICATORS = re.compile(
    r"哪些.{0,12}指标|指标(?:都|一共|总共)?(?:有哪些|有什么|目录|清单|列表|列一下)|列(?:一下|出|举).{0,12}指标|"
    r"能查(?:哪些|什么)|what indicators|which indicators|list (?:all |the |of )?.{0,40}indicators"
)
# 和床位有关的指标 → search the catalog for 床位
INDICATOR_TOPIC = re.compile(r"(?:跟|和|与|关于)(.{1,12}?)(?:有关|相关)")
DIMENSION_WORD = r"(科室|院区|医生|医保类型|就诊类型)"
LIST_DIMENSION = re.compile(
    rf"(?:哪(?:些|几个|几种|几类)|几个|几种|多少个)(.{{0,6}}?){DIMENSION_WORD}|"
    rf"{DIMENSION_WORD}(?:都|一共|总共)?(?:有哪些|有哪几[个种类]|有几[个种类]|有什么|怎么分|分哪[些几]|分为|列表|清单|名单)"
)
DIMENSION_WORDS = {
    "科室": "department",
    "院区": "campus",
    "医生": "doctor",
    "医保类型": "insurance",
    "就诊类型": "visit_type",
}
YOY = re.compile(
    r"同比|比去年|较去年|比前年|较前年|比上年|(?:和|与|跟)(?:去年|上年)(?:同期)?相?比|上年同期|"
    r"(?:比|跟|和|与|较|同)(?:再)?(?:前一年|上一年|前一个年度|上一个年度)|a year earlier|previous year|"
    r"去年同期|同期相比|增长|增幅|增减|涨了|降了|变化|升了|上升|下降|提高|降低|year[- ]over[- ]year|yoy|compared (?:with|to) last year|growth|change"
)
MOM = re.compile(
    r"环比|比上月|较上月|比上个月|比上季度|较上季度|上一期|上期|month[- ]over[- ]month|mom\b|vs\.? last month|"
    r"previous period|prior period|(?:和|与|跟|比|较|同)(?:上一?个?月|上一?个?季度|前一个?月|前一个?季度)(?:相?比)?"
)
GROUPS = [
    (
        "department",
        r"按科室|各科室|分科室|各个科室|每个科室|科室(?:分布|对比|排名|排行)|哪个科室|哪些科室|by department|per department|each department|which department",
    ),
    (
        "campus",
        r"按院区|各院区|分院区|各个院区|每个院区|院区(?:分布|对比)|哪个院区|by campus|each campus|which campus",
    ),
    ("doctor", r"按医生|各医生|每个医生|医生(?:排名|排行)|哪个医生|哪位医生|by doctor|which doctor"),
    ("insurance", r"按医保|各医保|分医保|医保类型(?:分布|对比)|by insurance"),
    ("visit_type", r"门诊(?:和|与|、)急诊(?:(?:和|与|、)住院)?分别|按就诊类型|各就诊类型|by visit type"),
    ("quarter", r"按季度?|每个?季度|各个?季度|分季度|逐季|by quarter|quarterly"),
    ("month", r"每个月|每月|按月|逐月|分月|月度|各月|by month|monthly|each month"),
    ("year", r"每年|按年|逐年|各年|历年|分年度|by year|yearly|annual|each year|per year|every year"),
]
TREND = re.compile(r"趋势|走势|变化情况|trend")
TOP = re.compile(
    r"(?:排名|排行)?前\s*(?P<n>[0-9一二两三四五六七八九十]+)(?!\s*个?(?:年|月|季|天|日|周|期))\s*(?:名|位|个)?|"
    r"(?:top|highest|first)\s*(?P<en>\d+)"
)
BOTTOM = re.compile(
    r"(?:倒数|后)\s*(?P<n>[0-9一二两三四五六七八九十]+)\s*(?:名|位|个)?|(?:bottom|lowest|last)\s*(?P<en>\d+)"
)
HIGHEST = re.compile(r"最高|最多|最大|最长|最久|最满|最快|最重|最贵|highest|most|largest|longest|fastest")
LOWEST = re.compile(r"最低|最少|最小|最短|最空|最闲|最慢|最轻|最便宜|lowest|least|smallest|shortest|slowest")
RANKING = re.compile(r"排个?名|排行|排序|rank")
WHOLE_HOSPITAL = re.compile(r"全院|整个医院|全医院|whole hospital|hospital-wide|overall")
# 东院区和西院区合计: one total, not one row per campus
COMBINED = re.compile(r"合计|合起来|加起来|加在一起|总共|一共|总计|combined|in total")
# 和住院收入一起看: add the indicator to the previous question's instead of replacing it
ADD_INDICATOR = re.compile(
    r"也要|也一起|一起看|一并看|也看|也加上|加上|同时看|together with|as well|also show|add "
)
REPLACE = re.compile(r"换成|改成|换为|改为|看看|switch to|instead")
FIGURE = re.compile(
    r"多少|是多少|几|怎么样|如何|情况|数据|水平|高不高|达到|统计|查询|查一下|看一下|how much|how many|what (?:is|was|were)"
)
# the vocabulary of hospital administration in the widest sense: a question with none of it is off
# topic (明天下雨吗); one with some goes to the knowledge base when no indicator fits
DOMAIN = re.compile(
    r"[医药病诊院保费价护床科卫患]|处方|手术|编码|考核|国考|评审|集采|带量|4\+7|号文|指标|绩效|财务|预算|会计|人员|人次|收入|支出|"
    r"(?<![a-z])(?:DRG|DIP|CMI|ICD|HIS|EMR|hospital|patients?|medical|insurance|drugs?|doctors?|nurses?|clinics?|surgery|beds?)(?![a-z])",
    re.I,
)
OPERATIONS = re.compile(
    r"指标|科室|院区|医院|医保|收入|费用|病床|床位|手术|住院|入院|门诊|出院|药|耗材|DRG|DIP|国考|评审|考核|医生|人次|人数|占比|比例|率",
    re.I,
)
ENGLISH_PERIODS = [
    # the longer phrases first: "first half of last year" must not become "first half of 去年"
    (re.compile(r"\b(?:first half|h1) (?:of )?(\d{4})\b"), r"\1年上半年"),
    (re.compile(r"\b(?:first half|h1) (?:of )?last year\b"), "去年上半年"),
    (re.compile(r"\b(?:first half|h1) (?:of )?(?:this year)?\b"), "上半年"),
    (re.compile(r"compared (?:with|to) last year|vs\.? last year"), "同比"),
    (re.compile(r"\b(?:each|every|per) year\b|year by year"), "每年"),
    (re.compile(r"\bthis year\b|\bytd\b|year to date"), "今年"),
    (re.compile(r"\blast year\b|\bprevious year\b"), "去年"),
    (re.compile(r"\bthis month\b"), "本月"),
    (re.compile(r"\blast month\b|\bprevious month\b"), "上个月"),
    (re.compile(r"\bthis quarter\b"), "本季度"),
    (re.compile(r"\blast quarter\b|\bprevious quarter\b"), "上季度"),
    (re.compile(r"\b(?:past|last) (?:twelve) months\b"), "近12个月"),
    (re.compile(r"\b(?:past|last) (?:three) years\b"), "近三年"),
    (re.compile(r"\b(?:past|last) (\d+) months\b"), r"近\1个月"),
    (re.compile(r"\b(?:past|last) (\d+) years\b"), r"近\1年"),
    (re.compile(r"\bq([1-4]) (\d{4})\b"), r"\2年第\1季度"),
    (re.compile(r"\bq([1-4])\b"), r"第\1季度"),
    (re.compile(r"(?<![\d-])\b(?:in |for )?(20\d{2})\b(?!-\d)"), r"\1年"),
]


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# a month needs "in/for/during" or a year after it: "may I ask" is no period
_ENGLISH_MONTH = re.compile(
    rf"\b(?:(?:in|for|during) ({'|'.join(_MONTHS)})(?: (20\d\d))?|({'|'.join(_MONTHS)}) (20\d\d))\b"
)
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ENGLISH_COUNT = re.compile(rf"\b(top|bottom|lowest|highest|first|last) ({'|'.join(_NUMBER_WORDS)})\b")


def _month_in_chinese(m: re.Match) -> str:
    month, year = (m[1], m[2]) if m[1] else (m[3], m[4])
    return (f"{year}年" if year else "") + f"{_MONTHS.index(month) + 1}月"


def english_periods(text: str) -> str:
    """English period words in the Chinese the time parser reads: last year → 去年, in July → 7月."""
    text = _ENGLISH_MONTH.sub(_month_in_chinese, text)
    text = _ENGLISH_COUNT.sub(lambda m: f"{m[1]} {_NUMBER_WORDS.index(m[2]) + 1}", text)
    for pattern, replacement in ENGLISH_PERIODS:
        text = pattern.sub(replacement, text)
    return text


# words that carry no name: what is left of a question once these, the names and the periods are
# taken out is what the mapping did not explain (serving/planner/explained.py)
FILLERS = re.compile(
    r"请问|麻烦|帮我|帮忙|给我|我想|想要?|知道|了解|看一下|看下|看看|看|查一下|查下|查查|查询|查|统计|算一下|说一下|告诉我|列一下|"
    r"一下|是多少|多少|几|怎么样|如何|情况|数据|水平|咱们|我们|我院|本院|医院|全院|咱|院里|今天|现在|目前|一共|总共|分别|各自|"
    r"大概|大约|具体|这个|那个|这些|那些|还有|以及|另外|同时|然后|那么|那|呢|吗|吧|啊|呀|嘛|的|了|是|在|有|和|与|跟|及|或|也|都|再|就|"
    r"要|能|会|对|把|被|给|让|按|每|各|个|为|又|还|呗|哈|哦|嗯|吧|么|啥|什么|怎么|哪些|哪个|哪|谁|"
    r"please|show|me|the|what|is|was|are|of|for|in|and|how|much|many|a|an|to|by|our|hospital|value|number",
    re.I,
)
