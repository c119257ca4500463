"""The charge item dictionary (收费项目字典): ~230 items with list prices, one fee class each.

Line format: ``class | name | unit price | tags | weight | flags``. Tags say which specialties use
an item (``general``: everybody); weight is its relative frequency within the class; flags are
``abx <DDDs per unit>`` for antibacterials, ``hv`` for 高值医用耗材, ``@<dept>`` for an execution
department other than the class default.
"""

from __future__ import annotations

from dataclasses import dataclass

# Execution department (执行科室) by class; None: the ordering department executes it.
CLASS_EXEC_DEPT = {
    "F05": "病理科", "F06": "医学检验科", "F07": "医学影像科",
    "F13": "药剂科", "F14": "药剂科", "F15": "药剂科",
    "F16": "医学检验科", "F17": "药剂科", "F18": "药剂科", "F19": "药剂科", "F20": "药剂科",
}  # fmt: skip

_ITEMS = """
F01|普通门诊诊察费|10|general|0|
F01|副主任医师门诊诊察费|25|general|0|
F01|主任医师门诊诊察费|40|general|0|
F01|急诊诊察费|15|general|0|
F01|普通病房床位费(三人间)|50|general|0|
F01|普通病房床位费(双人间)|80|general|0|
F01|重症监护病房床位费|180|general|0|
F01|住院诊查费|20|general|0|
F01|院内会诊费|50|general|1|
F01|急诊留观床位费|30|icu|1|
F02|静脉输液|10|general|6|
F02|肌内注射|3|general|2|
F02|静脉注射|5|general|3|
F02|换药(中)|30|surg,ortho,derm|3|
F02|导尿|20|surg,uro,icu|1|
F02|氧气吸入(小时)|3|resp,icu,cardio|2|
F02|雾化吸入|15|resp,peds|3|
F02|清创缝合(小)|120|surg,icu|1|
F02|深静脉穿刺置管术|180|icu,onco|1|
F02|吸痰护理|8|icu,resp|1|
F02|血糖监测|8|endo,general|3|
F03|一级护理|40|general|0|
F03|二级护理|25|general|0|
F03|三级护理|15|general|0|
F03|特级护理|120|icu|0|
F03|门诊静脉输液护理|5|general|1|
F04|病房空调费|5|general|2|
F04|尸体料理|100|general|0|
F04|院前急救出车费|150|icu|1|
F05|活检组织病理诊断|220|general|4|
F05|术中冰冻快速病理诊断|480|surg,breast,thoracic|2|
F05|免疫组织化学染色诊断|150|onco,heme,breast|2|
F05|液基薄层细胞学检查|120|obgyn|2|
F05|肿瘤分子病理检测|1800|onco,breast|1|
F06|血细胞分析(血常规)|20|general|8|
F06|尿液分析|8|general|4|
F06|肝功能|60|general|4|
F06|肾功能|30|general,renal|4|
F06|血脂四项|40|cardio,endo|2|
F06|电解质六项|25|general|4|
F06|糖化血红蛋白|65|endo|2|
F06|凝血功能四项|70|surg,cardio,icu|3|
F06|心肌肌钙蛋白I|75|cardio,icu|2|
F06|B型钠尿肽(BNP)|160|cardio|1|
F06|C反应蛋白|35|general,peds,resp|4|
F06|降钙素原|150|resp,icu,infect|2|
F06|血气分析|80|icu,resp|2|
F06|癌胚抗原(CEA)|45|onco,gi|1|
F06|乙型肝炎病毒五项|60|infect,general|2|
F06|乙肝病毒DNA定量|200|infect|1|
F06|甲状腺功能五项|120|endo|2|
F06|血培养及药敏|190|icu,infect|1|
F06|痰培养及药敏|80|resp|1|
F06|D-二聚体|60|vasc,cardio,icu|2|
F06|血型鉴定及交叉配血|60|surg,obgyn|2|
F06|新型冠状病毒核酸检测|40|general|1|
F06|类风湿因子|30|rheum|2|
F06|抗核抗体谱|260|rheum|1|
F06|骨髓细胞形态学检查|300|heme|1|
F07|胸部数字化X线摄影(DR)|70|general,resp|5|
F07|四肢关节X线摄影|60|ortho|4|
F07|头颅CT平扫|150|neuro,neurosurg,icu|3|
F07|胸部CT平扫|180|resp,thoracic,general|5|
F07|腹部CT增强扫描|520|gi,surg,onco|2|
F07|冠状动脉CT血管成像|900|cardio|1|
F07|头颅磁共振平扫|450|neuro,neurosurg|2|
F07|腰椎磁共振平扫|500|ortho,rehab|2|
F07|PET-CT全身显像|7000|onco|0.05|
F07|乳腺钼靶摄影|150|breast|1|
F07|双能X线骨密度测定|80|endo,ortho|1|
F07|数字减影血管造影(DSA)|1200|cardio,vasc,neurosurg|1|
F07|腹部彩色多普勒超声|120|general,gi|5|@超声医学科
F07|超声心动图|220|cardio|2|@超声医学科
F07|甲状腺彩色多普勒超声|90|endo,surg|2|@超声医学科
F07|颈部血管彩色多普勒超声|150|neuro,vasc|2|@超声医学科
F07|妇科彩色多普勒超声|100|obgyn|3|@超声医学科
F07|产科彩色多普勒超声|120|obgyn|3|@超声医学科
F07|泌尿系彩色多普勒超声|100|uro,renal|2|@超声医学科
F08|常规心电图|25|general,cardio|5|
F08|动态心电图|180|cardio|1|
F08|肺功能检查|150|resp|1|
F08|电子胃镜检查|250|gi|2|
F08|电子结肠镜检查|350|gi|1|
F08|电子支气管镜检查|400|resp|1|
F08|脑电图|100|neuro,peds|1|
F08|肌电图|200|neuro,rehab|1|
F08|眼底检查|20|eye,endo|3|
F08|光学相干断层扫描(OCT)|200|eye|1|
F08|纯音测听|60|ent|2|
F08|电子鼻咽喉镜检查|150|ent|2|
F08|骨髓穿刺术|150|heme|1|
F08|皮肤镜检查|60|derm|2|
F08|过敏原检测|200|derm,peds,resp|1|
F09|血液透析|420|renal|6|
F09|腹膜透析|100|renal|1|
F09|连续性血液净化|1500|icu,renal|1|
F09|有创呼吸机辅助呼吸(日)|200|icu|2|
F09|无创呼吸机辅助呼吸(日)|120|resp,icu|1|
F09|调强放射治疗|1500|onco|2|
F09|体外冲击波碎石|800|uro|1|
F09|窄谱中波紫外线治疗|50|derm|3|
F09|根管治疗|300|dental|4|
F09|牙周洁治|150|dental|3|
F09|激光光凝治疗|400|eye|1|
F09|化疗药物配置|30|onco,heme|3|
F09|血浆置换|1500|heme,neuro,rheum|0.2|
F10|一级手术费|300|surg|0|
F10|二级手术费|800|surg|0|
F10|三级手术费|2000|surg|0|
F10|四级手术费|4500|surg|0|
F10|介入治疗费|2500|cardio,vasc,neurosurg|0|
F10|局部麻醉|100|surg|0|
F10|椎管内麻醉|600|surg|0|
F10|全身麻醉|1200|surg|0|
F10|体表肿物切除术|300|surg,derm|2|
F10|牙拔除术|80|dental|4|
F10|睑板腺囊肿切除术|200|eye|2|
F10|门诊清创缝合术|250|surg,icu|1|
F11|运动疗法|45|rehab|5|
F11|作业疗法|35|rehab|3|
F11|言语训练|40|rehab|2|
F11|吞咽功能障碍训练|35|rehab,neuro|2|
F11|偏瘫肢体综合训练|50|rehab,neuro|3|
F11|中频脉冲电治疗|20|rehab,ortho|3|
F11|康复评定|60|rehab|1|
F12|普通针刺|30|tcm,rehab|5|
F12|电针|35|tcm,rehab|3|
F12|艾灸|25|tcm|3|
F12|拔罐|15|tcm|2|
F12|推拿治疗|60|tcm,rehab|3|
F12|穴位贴敷|20|tcm,resp|2|
F12|小针刀治疗|100|tcm,ortho|1|
F13|注射用头孢曲松钠(1g)|8.5|general,resp,peds,surg|3|abx 0.5
F13|注射用头孢呋辛钠(1.5g)|12|surg,ortho|3|abx 0.5
F13|注射用头孢唑林钠(1g)|6|surg,ortho,obgyn|3|abx 0.3333
F13|注射用哌拉西林钠他唑巴坦钠(4.5g)|45|icu,resp|2|abx 0.3214
F13|注射用美罗培南(0.5g)|80|icu|1|abx 0.1667
F13|左氧氟沙星氯化钠注射液(0.5g)|25|resp,uro|2|abx 1.0
F13|莫西沙星氯化钠注射液(0.4g)|60|resp|1|abx 1.0
F13|注射用阿奇霉素(0.5g)|20|resp,peds|2|abx 1.0
F13|注射用万古霉素(0.5g)|60|icu|0.5|abx 0.25
F13|注射用头孢他啶(1g)|20|icu,resp|1|abx 0.25
F13|注射用头孢哌酮钠舒巴坦钠(1.5g)|30|icu,gi,surg|1|abx 0.25
F13|甲硝唑氯化钠注射液(0.5g)|5|surg,gi,obgyn|2|abx 0.3333
F13|阿莫西林胶囊(0.25g×24粒)|10|general,ent,dental|2|abx 4.0
F13|头孢克洛缓释片(0.375g×12片)|30|general,ent,peds|1|abx 4.5
F13|左氧氟沙星片(0.5g×4片)|15|uro,resp|1|abx 4.0
F13|阿奇霉素片(0.25g×6片)|18|resp,peds|1|abx 5.0
F13|阿托伐他汀钙片(20mg×7片)|25|cardio,neuro|5|
F13|瑞舒伐他汀钙片(10mg×7片)|30|cardio,neuro|3|
F13|阿司匹林肠溶片(100mg×30片)|15|cardio,neuro|5|
F13|硫酸氢氯吡格雷片(75mg×7片)|45|cardio,neuro|3|
F13|替格瑞洛片(90mg×14片)|140|cardio|1|
F13|硝苯地平控释片(30mg×7片)|35|cardio,renal|3|
F13|苯磺酸氨氯地平片(5mg×7片)|20|cardio|3|
F13|琥珀酸美托洛尔缓释片(47.5mg×7片)|25|cardio|3|
F13|盐酸二甲双胍缓释片(0.5g×30片)|15|endo|4|
F13|阿卡波糖片(50mg×30片)|40|endo|3|
F13|门冬胰岛素注射液(3ml)|70|endo|3|
F13|甘精胰岛素注射液(3ml)|180|endo|2|
F13|奥美拉唑肠溶胶囊(20mg×14粒)|20|gi,general|4|
F13|注射用泮托拉唑钠(40mg)|35|gi,surg,icu|3|
F13|注射用艾司奥美拉唑钠(40mg)|60|gi,icu|2|
F13|吸入用布地奈德混悬液(1mg×5支)|30|resp,peds|3|
F13|沙丁胺醇气雾剂(200揿)|30|resp|2|
F13|孟鲁司特钠片(10mg×5片)|50|resp,peds|2|
F13|盐酸氨溴索注射液(15mg)|15|resp,icu|3|
F13|对乙酰氨基酚片(0.5g×12片)|8|general,peds|2|
F13|布洛芬混悬液(100ml)|20|peds|3|
F13|0.9%氯化钠注射液(250ml)|4|general|8|
F13|低分子量肝素钙注射液(0.4ml)|50|cardio,ortho,vasc|3|
F13|注射用阿替普酶(50mg)|4000|neuro|0.1|
F13|依达拉奉注射液(30mg)|80|neuro|2|
F13|甘露醇注射液(250ml)|8|neuro,neurosurg|2|
F13|注射用紫杉醇(白蛋白结合型)(100mg)|2000|onco,breast|0.5|
F13|注射用奥沙利铂(50mg)|500|onco,gi|1|
F13|注射用盐酸吉西他滨(1g)|300|onco|1|
F13|利妥昔单抗注射液(100mg)|1500|heme|1|
F13|注射用曲妥珠单抗(440mg)|6000|breast|0.3|
F13|重组人促红素注射液(3000IU)|70|renal|3|
F13|来氟米特片(10mg×30片)|40|rheum|2|
F13|甲氨蝶呤片(2.5mg×16片)|15|rheum|2|
F13|注射用甲泼尼龙琥珀酸钠(40mg)|40|rheum,resp,icu|2|
F13|玻璃酸钠滴眼液(5ml)|30|eye|4|
F13|糠酸莫米松乳膏(5g)|25|derm|4|
F13|盐酸西替利嗪片(10mg×12片)|20|derm,ent|3|
F13|缩宫素注射液(10IU)|5|obgyn|3|
F13|磷酸奥司他韦胶囊(75mg×10粒)|45|resp,peds|1|
F13|利伐沙班片(10mg×5片)|120|cardio,ortho,vasc|2|
F13|重酒石酸去甲肾上腺素注射液(2mg)|10|icu|2|
F13|丙泊酚中/长链脂肪乳注射液(20ml)|60|anes,surg|2|
F13|枸橼酸舒芬太尼注射液(50μg)|40|anes,surg|2|
F13|盐酸罗哌卡因注射液(100mg)|30|anes,surg,obgyn|2|
F13|盐酸昂丹司琼注射液(8mg)|20|onco,surg|2|
F13|恩替卡韦分散片(0.5mg×28片)|30|infect|4|
F13|左甲状腺素钠片(50μg×100片)|25|endo|2|
F13|蒙脱石散(3g×10袋)|15|gi,peds|2|
F13|盐酸坦索罗辛缓释胶囊(0.2mg×10粒)|40|uro|3|
F14|连花清瘟胶囊(0.35g×24粒)|15|resp,general|3|
F14|复方丹参滴丸(27mg×180丸)|25|cardio|3|
F14|银杏叶片(19.2mg×24片)|40|neuro,cardio|2|
F14|血塞通注射液(100mg)|30|neuro|2|
F14|丹红注射液(10ml)|40|cardio,neuro|2|
F14|注射用血栓通(冻干)(150mg)|60|neuro|2|
F14|蒲地蓝消炎口服液(10ml×6支)|35|ent,peds|2|
F14|小儿豉翘清热颗粒(2g×6袋)|30|peds|3|
F14|复方甘草酸苷片(25mg×40片)|30|derm,infect|2|
F14|参麦注射液(50ml)|40|icu,onco|1|
F14|云南白药胶囊(0.25g×16粒)|30|ortho,surg|1|
F14|百令胶囊(0.5g×42粒)|60|renal|2|
F14|麝香保心丸(22.5mg×42丸)|40|cardio|2|
F14|颈舒颗粒(6g×9袋)|35|tcm,ortho,rehab|2|
F15|黄芪(克)|0.15|tcm,general|4|
F15|当归(克)|0.3|tcm|3|
F15|党参(克)|0.25|tcm|3|
F15|茯苓(克)|0.12|tcm|3|
F15|甘草(克)|0.1|tcm,general|3|
F15|丹参(克)|0.15|tcm,cardio|2|
F15|金银花(克)|0.6|tcm,resp|2|
F15|连翘(克)|0.3|tcm,resp|2|
F15|柴胡(克)|0.35|tcm|2|
F15|三七粉(克)|3.5|tcm,cardio|1|
F15|西洋参(克)|2.5|tcm|1|
F15|中药配方颗粒(剂)|45|tcm|3|
F16|去白细胞悬浮红细胞(每单位)|220|surg,heme,icu|5|
F16|新鲜冰冻血浆(100ml)|100|surg,icu|3|
F16|机采血小板(每治疗量)|1200|heme|1|
F16|冷沉淀凝血因子(每单位)|80|surg,obgyn|1|
F17|人血白蛋白(10g)|380|general,icu,surg|4|
F17|人血白蛋白(5g)|200|general|2|
F18|静注人免疫球蛋白(pH4)(2.5g)|700|neuro,peds,heme,icu|3|
F18|乙型肝炎人免疫球蛋白(200IU)|200|obgyn,infect|1|
F18|破伤风人免疫球蛋白(250IU)|150|icu,ortho,surg|2|
F19|人凝血酶原复合物(300IU)|600|icu,surg|1|
F19|人纤维蛋白原(0.5g)|900|obgyn,surg,icu|1|
F19|人凝血因子Ⅷ(200IU)|1500|heme|0.5|
F20|重组人粒细胞刺激因子注射液(150μg)|150|onco,heme|3|
F20|重组人白介素-11(1.5mg)|200|onco,heme|1|
F20|重组人血小板生成素注射液(15000U)|1000|heme,onco|1|
F20|聚乙二醇化重组人粒细胞刺激因子注射液(3mg)|3000|onco,breast|0.5|
F21|一次性使用真空采血管|1.5|general|5|
F21|一次性使用采血针|1|general|4|
F21|一次性心电电极片|2|cardio,icu|3|
F21|一次性使用活检钳|200|gi,resp|2|
F21|冠状动脉造影导管|500|cardio|0|hv
F21|一次性使用高压注射器针筒|150|cardio,vasc,neurosurg,general|2|
F22|一次性使用输液器|3|general|8|
F22|一次性使用静脉留置针|15|general|5|
F22|一次性使用无菌注射器(10ml)|1|general|5|
F22|一次性使用导尿包|25|uro,surg,icu|2|
F22|一次性使用吸氧管|5|resp,icu|3|
F22|医用无菌敷贴|10|surg,ortho,general|4|
F22|中心静脉导管套件|350|icu,onco|1|
F22|经外周置入中心静脉导管(PICC)|1500|onco,heme|0|hv
F22|血液透析器|150|renal|3|
F22|血液透析管路|80|renal|3|
F22|气管插管|60|icu,anes|1|
F22|一次性负压引流装置|200|surg,ortho|1|
F22|冠状动脉球囊扩张导管|2500|cardio|0|hv
F22|PTCA导引导丝|1500|cardio,vasc|0|hv
F22|射频消融导管|15000|cardio|0|hv
F22|外周血管球囊扩张导管|3000|vasc|0|hv
F22|颅内动脉瘤弹簧圈|8000|neurosurg|0|hv
F22|颅内取栓支架|20000|neuro,neurosurg|0|hv
F22|完全植入式静脉输液港|3500|onco,breast|0|hv
F23|一次性使用手术衣包|50|surg|3|
F23|可吸收缝合线|80|surg,obgyn|4|
F23|一次性使用电刀笔|60|surg|3|
F23|一次性使用腹腔镜穿刺器|600|surg,gi,obgyn,uro|1|
F23|止血纱布(可吸收)|300|surg,neurosurg|1|
F23|医用胶|400|surg|1|
F23|一次性引流管|30|surg|3|
F23|超声刀头|3000|surg,gi,breast,thoracic|0|hv
F23|一次性使用管型吻合器|3500|gi,surg|0|hv
F23|一次性使用腔镜切割吻合器|4500|gi,thoracic,surg|0|hv
F23|腔镜切割吻合器钉仓|1500|gi,thoracic,surg|0|hv
F23|可吸收结扎夹|200|gi,surg,uro|0|hv
F23|疝修补补片|2000|surg|0|hv
F23|药物洗脱冠状动脉支架|6000|cardio|0|hv
F23|双腔心脏起搏器|30000|cardio|0|hv
F23|外周血管支架|8000|vasc|0|hv
F23|主动脉覆膜支架系统|40000|vasc|0|hv
F23|生物心脏瓣膜|45000|thoracic|0|hv
F23|人工全髋关节假体|25000|ortho|0|hv
F23|人工股骨头假体|12000|ortho|0|hv
F23|人工全膝关节假体|28000|ortho|0|hv
F23|脊柱椎弓根螺钉系统|12000|ortho|0|hv
F23|椎间融合器|6000|ortho|0|hv
F23|锁定接骨板系统|4000|ortho|0|hv
F23|股骨髓内钉系统|6000|ortho|0|hv
F23|人工晶状体(折叠式)|3000|eye|0|hv
F23|人工硬脑膜补片|3000|neurosurg|0|hv
F23|颅骨固定钛板|2500|neurosurg|0|hv
F24|院内转运费|50|general|1|
F24|病历复印费|10|general|1|
F24|陪护床租用费|10|general|1|
"""


@dataclass(frozen=True)
class ChargeItem:
    code: str
    name: str
    fee_class: str
    price: float
    tags: tuple[str, ...]
    weight: float  # relative frequency among the class's flexible lines; 0: only placed on purpose
    exec_dept: str | None
    high_value: bool
    ddd_per_unit: float | None

    @property
    def antibiotic(self) -> bool:
        return self.ddd_per_unit is not None


def _parse() -> tuple[ChargeItem, ...]:
    items, seq = [], {}
    for line in _ITEMS.strip().splitlines():
        cls, name, price, tags, weight, flags = line.split("|")
        seq[cls] = seq.get(cls, 0) + 1
        exec_dept = flags[1:] if flags.startswith("@") else CLASS_EXEC_DEPT.get(cls)
        ddd = float(flags.split()[1]) if flags.startswith("abx") else None
        items.append(
            ChargeItem(f"{cls}{seq[cls]:03d}", name, cls, float(price), tuple(tags.split(",")),
                       float(weight), exec_dept, flags == "hv", ddd)
        )  # fmt: skip
    return tuple(items)


ITEMS = _parse()
ITEM_BY_NAME = {item.name: i for i, item in enumerate(ITEMS)}
