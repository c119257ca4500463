"""The demo hospital's organisation: campuses, departments, insurance types and fee classes.

Departments carry the workload parameters the fact generators need (visit and admission weights,
patient ages, seasonality, cost and drug-share multipliers), so one table describes each
department once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CAMPUSES = (
    ("BB", "本部", date(1952, 10, 1)),
    ("DY", "东院区", date(2008, 6, 18)),
    ("XY", "西院区", date(2015, 3, 20)),
)
CAMPUS_CODES = tuple(c[0] for c in CAMPUSES)
CAMPUS_NAMES = {c[0]: c[1] for c in CAMPUSES}

INSURANCE = (("ZG", "职工医保"), ("JM", "居民医保"), ("ZF", "自费"), ("QT", "其他"))
INSURANCE_CODES = tuple(i[0] for i in INSURANCE)

# The 24 fee items of the 2011 住院病案首页 and the project's revenue groups (docs/warehouse-schema.md).
FEE_CLASSES = (
    ("F01", "一般医疗服务费", "综合医疗服务类", "医疗服务"),
    ("F02", "一般治疗操作费", "综合医疗服务类", "医疗服务"),
    ("F03", "护理费", "综合医疗服务类", "医疗服务"),
    ("F04", "其他费用", "综合医疗服务类", "医疗服务"),
    ("F05", "病理诊断费", "诊断类", "检查"),
    ("F06", "实验室诊断费", "诊断类", "化验"),
    ("F07", "影像学诊断费", "诊断类", "检查"),
    ("F08", "临床诊断项目费", "诊断类", "检查"),
    ("F09", "非手术治疗项目费", "治疗类", "医疗服务"),
    ("F10", "手术治疗费", "治疗类", "医疗服务"),
    ("F11", "康复费", "康复类", "医疗服务"),
    ("F12", "中医治疗费", "中医类", "医疗服务"),
    ("F13", "西药费", "西药类", "药品"),
    ("F14", "中成药费", "中药类", "药品"),
    ("F15", "中草药费", "中药类", "药品"),
    ("F16", "血费", "血液和血液制品类", "血液制品"),
    ("F17", "白蛋白类制品费", "血液和血液制品类", "血液制品"),
    ("F18", "球蛋白类制品费", "血液和血液制品类", "血液制品"),
    ("F19", "凝血因子类制品费", "血液和血液制品类", "血液制品"),
    ("F20", "细胞因子类制品费", "血液和血液制品类", "血液制品"),
    ("F21", "检查用一次性医用材料费", "耗材类", "卫生材料"),
    ("F22", "治疗用一次性医用材料费", "耗材类", "卫生材料"),
    ("F23", "手术用一次性医用材料费", "耗材类", "卫生材料"),
    ("F24", "其他费", "其他类", "其他"),
)
FEE_CLASS_CODES = tuple(f[0] for f in FEE_CLASSES)
DRUG_CLASSES = (12, 13, 14)  # indexes of F13, F14, F15
REVENUE_GROUPS = ("医疗服务", "检查", "化验", "药品", "卫生材料", "血液制品", "其他")
CLASS_GROUP = tuple(REVENUE_GROUPS.index(f[3]) for f in FEE_CLASSES)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    group: str
    surgical: bool
    inpatient: bool
    clinic_weight: float  # share of 门诊 visits (relative)
    emergency_weight: float  # share of 急诊 visits (relative)
    inpatient_weight: float  # share of admissions (relative)
    campuses: dict[str, float]  # campus -> relative volume there
    age: tuple[float, float, float, float]  # mean, sd, min, max of patient age
    male: float  # share of male patients
    season: float  # winter amplitude (negative: summer peak)
    cost: float  # outpatient cost per visit relative to the hospital
    drug: float  # drug share relative to the hospital
    occupancy: float  # relative bed occupancy
    tags: tuple[str, ...]  # specialties, matched against charge item tags

    @property
    def clinical(self) -> bool:
        return self.group != "医技"


# code name group surgical inpatient clinic emergency inpatient campuses age male season cost drug occ tags
_DEPARTMENTS = """
NK01 心血管内科 内科 0 1 6.0 0 9.0 BB:1,DY:.5 64/12/18/98 .58 .08 1.25 1.15 1.04 cardio
NK02 呼吸内科 内科 0 1 6.0 0 7.0 BB:1,DY:.5,XY:.3 58/18/14/98 .55 .25 1.0 1.2 1.0 resp
NK03 消化内科 内科 0 1 6.0 0 6.0 BB:1,DY:.5 52/16/14/95 .52 .03 1.1 1.15 .97 gi
NK04 神经内科 内科 0 1 5.0 0 7.0 BB:1,DY:.45,XY:.35 62/14/16/98 .55 .06 1.1 1.2 1.02 neuro
NK05 内分泌科 内科 0 1 5.0 0 3.0 BB:1,DY:.5 55/14/14/95 .5 .02 1.05 1.35 .92 endo
NK06 肾内科 内科 0 1 2.5 0 3.0 BB:1 55/15/14/95 .55 .03 1.6 1.1 .97 renal
NK07 血液科 内科 0 1 1.5 0 2.5 BB:1 48/18/14/95 .52 .02 1.8 1.45 .98 heme,onco
NK08 风湿免疫科 内科 0 1 2.0 0 1.5 BB:1 45/15/14/90 .3 .02 1.2 1.3 .9 rheum
NK09 老年医学科 内科 0 1 2.0 0 3.0 BB:1,XY:1.2 76/7/60/100 .5 .1 1.1 1.25 .98 cardio,neuro,resp,endo
NK10 感染性疾病科 内科 0 1 2.0 0 2.0 BB:1 45/16/14/95 .58 .1 1.2 1.3 .86 infect,gi
NK11 全科医学科 内科 0 1 3.0 0 1.5 BB:1,XY:1 55/17/14/98 .48 .06 .8 1.2 .86 cardio,endo,resp
WK01 普通外科 外科 1 1 4.0 0 9.0 BB:1,DY:.5 52/16/14/95 .52 .02 .9 .8 .97 surg,gi
WK02 骨科 外科 1 1 5.0 .05 7.0 BB:1,DY:.5,XY:.4 52/18/6/98 .55 .02 .9 .7 1.03 ortho,surg
WK03 神经外科 外科 1 1 1.5 0 3.0 BB:1 52/17/6/95 .6 .02 1.1 .9 .97 neurosurg,surg,neuro
WK04 泌尿外科 外科 1 1 3.0 0 4.5 BB:1,DY:.4 55/16/6/95 .78 .02 1.0 .9 .96 uro,surg
WK05 心胸外科 外科 1 1 1.0 0 2.5 BB:1 58/13/14/90 .62 .02 1.1 .8 .92 thoracic,surg,cardio
WK06 乳腺外科 外科 1 1 2.0 0 2.0 BB:1 48/12/16/90 .01 0 1.2 1.1 .92 breast,surg,onco
WK07 血管外科 外科 1 1 .8 0 1.5 BB:1 62/13/16/95 .55 .02 1.1 .9 .92 vasc,surg
FE01 妇产科 妇儿 1 1 8.0 .05 9.0 BB:1,DY:.6 32/8/16/80 0 0 .95 .75 .92 obgyn,surg
FE02 儿科 妇儿 0 1 9.0 .15 6.0 BB:1,DY:.6 4/4/0/17 .55 .3 .65 1.1 .95 peds,resp
WG01 眼科 五官 1 1 5.0 0 3.5 BB:1,DY:.5 55/20/3/95 .48 0 .9 .55 .88 eye
WG02 耳鼻咽喉科 五官 1 1 4.0 0 2.5 BB:1 40/18/3/90 .52 .1 .85 .9 .9 ent
WG03 口腔科 五官 1 1 5.0 0 1.5 BB:1 38/18/3/90 .48 0 1.1 .3 .8 dental
QT01 皮肤科 其他临床 0 0 4.0 0 0 BB:1 36/17/3/90 .46 -.15 .7 1.2 1 derm
QT02 肿瘤科 其他临床 0 1 2.5 0 5.0 BB:1 58/11/16/90 .55 0 2.6 1.6 1.0 onco
QT03 急诊科 其他临床 0 1 0 .75 2.0 BB:1,DY:.5,XY:.3 48/20/14/98 .55 .1 1.4 1.0 .95 icu,cardio,resp,surg
QT04 重症医学科 其他临床 0 1 0 0 1.5 BB:1 62/16/16/98 .6 .08 1 1.0 .97 icu,resp
QT05 康复医学科 其他临床 0 1 2.0 0 2.0 BB:1,XY:1.3 58/15/16/95 .55 0 .9 .5 1.02 rehab,neuro
QT06 中医科 其他临床 0 1 5.0 0 1.5 BB:1,XY:1.2 52/16/14/95 .42 .03 1.0 1.25 .92 tcm
QT07 麻醉科 其他临床 0 0 .3 0 0 BB:1 55/15/14/90 .5 0 1.0 .8 1 anes
YJ01 医学检验科 医技 0 0 0 0 0 BB:1 0/1/0/1 .5 0 1 1 1 lab
YJ02 病理科 医技 0 0 0 0 0 BB:1 0/1/0/1 .5 0 1 1 1 lab
YJ03 医学影像科 医技 0 0 0 0 0 BB:1 0/1/0/1 .5 0 1 1 1 imaging
YJ04 超声医学科 医技 0 0 0 0 0 BB:1 0/1/0/1 .5 0 1 1 1 imaging
YJ05 药剂科 医技 0 0 0 0 0 BB:1 0/1/0/1 .5 0 1 1 1 pharmacy
"""


def _parse(line: str) -> Department:
    f = line.split()
    campuses = {c: float(w) for c, w in (p.split(":") for p in f[8].split(","))}
    age = tuple(float(x) for x in f[9].split("/"))
    return Department(
        code=f[0], name=f[1], group=f[2], surgical=f[3] == "1", inpatient=f[4] == "1",
        clinic_weight=float(f[5]), emergency_weight=float(f[6]), inpatient_weight=float(f[7]),
        campuses=campuses, age=age, male=float(f[10]), season=float(f[11]), cost=float(f[12]),
        drug=float(f[13]), occupancy=float(f[14]), tags=tuple(f[15].split(",")),
    )  # fmt: skip


DEPARTMENTS: tuple[Department, ...] = tuple(_parse(x) for x in _DEPARTMENTS.strip().splitlines())
DEPT_INDEX = {d.name: i for i, d in enumerate(DEPARTMENTS)}
PEDIATRICS = DEPT_INDEX["儿科"]
ORTHOPEDICS = DEPT_INDEX["骨科"]
PHARMACY = DEPT_INDEX["药剂科"]
