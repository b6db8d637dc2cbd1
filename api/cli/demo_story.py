"""The demo's story (``jixiao demo``): a county-level city's fiscal year 2021, its projects and what befalls them.

Eight departments, 32 projects across the four budget books, two agencies: the data here, and which projects the
story singles out; :mod:`api.cli.demo` runs it day by day.

The story, beside the ordinary projects that run cleanly:
- 智慧文旅平台建设 is rejected at the ex-ante assessment (不予支持);
- 基本公共卫生服务项目's goals are rated 中, revised, then rated 良; 旅游发展专项资金's goals come in three days
  late (warned of on 24 October, missed on 1 November);
- 老旧小区改造 PPP 项目 has a goal adjustment approved, 城乡低保资金 one rejected;
- every project is warned on 8 August that its January–July monitoring report is due; 国有资本收益上缴调入 files
  it late;
- the scheduler finds deviations the morning after a report: 高标准农田建设 and 老旧小区改造 are yellow in April
  (answered in time: continue), then 高标准农田建设 red in July (budget reduced) and 老旧小区改造 yellow
  (continue); 农村饮水安全巩固提升 is yellow in July and nobody answers, so its funding is suspended automatically
  and a rectification required;
- 国有企业改革成本支出 self-evaluates two days late;
- finance draws the re-evaluation sample; one self-evaluation is caught as inflated (自评虚高);
- 青海某会计师事务所 does the key evaluation of 高标准农田建设, is then found to have falsified it and is
  blacklisted; 某咨询评估有限公司 re-does it;
- rectifications follow: one accepted, one rejected then accepted, one left overdue;
- goals are disclosed with the budget, results with the final accounts.

Over 500 lines: the story's data — 32 projects with their goals, reports and scores, the two agencies and what
befalls each — read best as one table beside the district report it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain import rules
from ledger.domain.organisations import department_id
from ledger.domain.values import Indicator, Principal

YEAR = 2021
FINANCE = Principal("caizheng-001", "finance", "市财政局")
OK_AGENCY = "某咨询评估有限公司"
BAD_AGENCY = "青海某会计师事务所"
SAMPLE_SEED = "2022-04-08 市财政局局务会 抽签"

# (level1, level2, name, operator, target, unit); weights are assigned from the ruleset's group weights.
Spec = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class DemoProject:
    code: str
    name: str
    department: str
    book: str
    requested: str
    indicators: tuple[Spec, ...]
    new_major: bool = False
    special: str | None = None
    kind: str = "project"
    library_ref: str | None = None


SATISFACTION: Spec = ("satisfaction", "service_users", "服务对象满意度", ">=", "85", "%")
AWARENESS: Spec = ("effect", "social", "政策知晓率", ">=", "85", "%")

PROJECTS: tuple[DemoProject, ...] = (
    DemoProject(
        "JY-01",
        "义务教育学生营养改善计划",
        "教育局",
        "general_public",
        "4800000.00",
        (
            ("output", "quantity", "受益学生人数", ">=", "5000", "人"),
            ("output", "timeliness", "供餐天数", ">=", "200", "天"),
            ("effect", "social", "学生体质健康达标率", ">=", "92", "%"),
            ("satisfaction", "service_users", "家长满意度", ">=", "90", "%"),
        ),
        new_major=True,
    ),
    DemoProject(
        "JY-02",
        "农村学校校舍维修改造",
        "教育局",
        "general_public",
        "2600000.00",
        (
            ("output", "quantity", "维修校舍面积", ">=", "12000", "平方米"),
            ("output", "quality", "工程验收合格率", "=", "100", "%"),
            AWARENESS,
            SATISFACTION,
        ),
        special="procurement",
    ),
    DemoProject(
        "JY-03",
        "学前教育幼儿资助",
        "教育局",
        "general_public",
        "900000.00",
        (
            ("output", "quantity", "资助幼儿人数", ">=", "1500", "人"),
            ("effect", "social", "应助尽助", "qualitative", "好", ""),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "JY-04",
        "教师培训购买服务",
        "教育局",
        "general_public",
        "600000.00",
        (
            ("output", "quantity", "培训教师人次", ">=", "1200", "人次"),
            ("cost", "economic", "人均培训成本", "<=", "500", "元"),
            AWARENESS,
            SATISFACTION,
        ),
        special="service_purchase",
    ),
    DemoProject(
        "WJ-01",
        "基本公共卫生服务项目",
        "卫生健康委员会",
        "general_public",
        "3200000.00",
        (
            ("output", "quantity", "65岁以上老年人健康管理人数", ">=", "8000", "人"),
            ("output", "quality", "电子健康档案建档率", ">=", "90", "%"),
            AWARENESS,
            ("satisfaction", "service_users", "居民满意度", ">=", "85", "%"),
        ),
    ),
    DemoProject(
        "WJ-02",
        "家庭医生签约服务",
        "卫生健康委员会",
        "general_public",
        "1500000.00",
        (
            ("output", "quantity", "签约居民人数", ">=", "20000", "人"),
            ("effect", "social", "重点人群签约率", ">=", "60", "%"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "WJ-03",
        "乡镇卫生院设备购置",
        "卫生健康委员会",
        "general_public",
        "2800000.00",
        (
            ("output", "quantity", "购置设备台数", ">=", "40", "台"),
            ("cost", "economic", "采购节约率", ">=", "5", "%"),
            ("effect", "sustainable", "设备使用率", ">=", "80", "%"),
            SATISFACTION,
        ),
        special="procurement",
    ),
    DemoProject(
        "WJ-04",
        "重大传染病防控",
        "卫生健康委员会",
        "general_public",
        "1200000.00",
        (
            ("output", "quantity", "疫苗接种人次", ">=", "30000", "人次"),
            ("effect", "social", "传染病报告及时率", ">=", "95", "%"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "NY-01",
        "高标准农田建设",
        "农业农村和科技局",
        "government_fund",
        "12000000.00",
        (
            ("output", "quantity", "建成高标准农田", ">=", "20000", "亩"),
            ("cost", "economic", "亩均投资", "<=", "1500", "元"),
            ("effect", "economic", "粮食亩均增产", ">=", "50", "公斤"),
            SATISFACTION,
        ),
        new_major=True,
    ),
    DemoProject(
        "NY-02",
        "农村饮水安全巩固提升",
        "农业农村和科技局",
        "government_fund",
        "3600000.00",
        (
            ("output", "quantity", "受益人口", ">=", "18000", "人"),
            ("output", "quality", "水质达标率", ">=", "95", "%"),
            AWARENESS,
            SATISFACTION,
        ),
    ),
    DemoProject(
        "NY-03",
        "农业科技推广",
        "农业农村和科技局",
        "general_public",
        "700000.00",
        (
            ("output", "quantity", "推广新品种", ">=", "6", "个"),
            ("effect", "economic", "示范区增收", ">=", "8", "%"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "NY-04",
        "动物防疫补助",
        "农业农村和科技局",
        "general_public",
        "850000.00",
        (
            ("output", "quantity", "免疫畜禽", ">=", "150000", "头只"),
            ("effect", "social", "重大动物疫病发生", "qualitative", "好", ""),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "ZJ-01",
        "老旧小区改造 PPP 项目",
        "住房和城乡建设局",
        "general_public",
        "9500000.00",
        (
            ("output", "quantity", "改造小区", ">=", "12", "个"),
            ("output", "timeliness", "按期完工率", "=", "100", "%"),
            ("effect", "social", "受益居民户数", ">=", "3000", "户"),
            SATISFACTION,
        ),
        new_major=True,
        special="ppp",
    ),
    DemoProject(
        "ZJ-02",
        "城市道路维护",
        "住房和城乡建设局",
        "government_fund",
        "4200000.00",
        (
            ("output", "quantity", "维护道路里程", ">=", "35", "公里"),
            ("output", "quality", "道路完好率", ">=", "90", "%"),
            AWARENESS,
            SATISFACTION,
        ),
        special="procurement",
    ),
    DemoProject(
        "ZJ-03",
        "保障性住房租赁补贴",
        "住房和城乡建设局",
        "general_public",
        "1800000.00",
        (
            ("output", "quantity", "补贴家庭户数", ">=", "600", "户"),
            ("effect", "social", "应保尽保", "qualitative", "好", ""),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "ZJ-04",
        "城镇污水管网建设",
        "住房和城乡建设局",
        "government_fund",
        "5600000.00",
        (
            ("output", "quantity", "新建管网", ">=", "18", "公里"),
            ("effect", "ecological", "污水集中收集率", ">=", "75", "%"),
            SATISFACTION,
        ),
        special="debt",
    ),
    DemoProject(
        "MZ-01",
        "城乡低保资金",
        "民政局",
        "general_public",
        "6000000.00",
        (
            ("output", "quantity", "保障人数", ">=", "4200", "人"),
            ("output", "quality", "资金发放准确率", "=", "100", "%"),
            ("effect", "social", "应保尽保", "qualitative", "好", ""),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "MZ-02",
        "特困人员救助供养",
        "民政局",
        "general_public",
        "2100000.00",
        (
            ("output", "quantity", "供养人数", ">=", "900", "人"),
            ("effect", "social", "集中供养率", ">=", "40", "%"),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "MZ-03",
        "养老服务购买",
        "民政局",
        "general_public",
        "1300000.00",
        (
            ("output", "quantity", "居家养老服务人次", ">=", "25000", "人次"),
            ("cost", "economic", "人均服务成本", "<=", "52", "元"),
            AWARENESS,
            SATISFACTION,
        ),
        special="service_purchase",
    ),
    DemoProject(
        "MZ-04",
        "福彩公益金资助项目",
        "民政局",
        "government_fund",
        "500000.00",
        (("output", "quantity", "资助项目数", ">=", "8", "个"), AWARENESS, SATISFACTION),
    ),
    DemoProject(
        "RS-01",
        "城乡居民基本养老保险基金",
        "人力资源和社会保障局",
        "social_insurance",
        "30000000.00",
        (
            ("output", "quantity", "参保人数", ">=", "60000", "人"),
            ("output", "quality", "待遇按时足额发放率", "=", "100", "%"),
            AWARENESS,
            ("satisfaction", "service_users", "参保群众满意度", ">=", "90", "%"),
        ),
    ),
    DemoProject(
        "RS-02",
        "城乡居民基本医疗保险基金",
        "人力资源和社会保障局",
        "social_insurance",
        "26000000.00",
        (
            ("output", "quantity", "参保人数", ">=", "85000", "人"),
            ("effect", "social", "政策范围内住院报销比例", ">=", "70", "%"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "RS-03",
        "失业保险基金稳岗返还",
        "人力资源和社会保障局",
        "social_insurance",
        "4000000.00",
        (
            ("output", "quantity", "受益企业", ">=", "300", "家"),
            ("effect", "economic", "稳定岗位", ">=", "8000", "个"),
            SATISFACTION,
        ),
        kind="policy",
    ),
    DemoProject(
        "RS-04",
        "职业技能提升培训",
        "人力资源和社会保障局",
        "general_public",
        "1600000.00",
        (
            ("output", "quantity", "培训人数", ">=", "3000", "人"),
            ("effect", "economic", "培训后就业率", ">=", "60", "%"),
            SATISFACTION,
        ),
        special="service_purchase",
    ),
    DemoProject(
        "GZ-01",
        "国有企业资本金注入",
        "国有资产服务中心",
        "state_capital",
        "5000000.00",
        (
            ("output", "quantity", "注资企业", "=", "2", "家"),
            ("effect", "economic", "国有资本保值增值率", ">=", "103", "%"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "GZ-02",
        "国有企业改革成本支出",
        "国有资产服务中心",
        "state_capital",
        "1400000.00",
        (("output", "quantity", "完成改制企业", ">=", "3", "家"), AWARENESS, SATISFACTION),
    ),
    DemoProject(
        "GZ-03",
        "产业投资基金出资",
        "国有资产服务中心",
        "state_capital",
        "8000000.00",
        (
            ("output", "quantity", "投资项目", ">=", "4", "个"),
            ("effect", "economic", "撬动社会资本倍数", ">=", "3", "倍"),
            SATISFACTION,
        ),
        special="investment_fund",
    ),
    DemoProject(
        "GZ-04",
        "国有资本收益上缴调入",
        "国有资产服务中心",
        "state_capital",
        "600000.00",
        (("output", "quantity", "收益上缴企业", ">=", "10", "家"), AWARENESS, SATISFACTION),
        kind="policy",
    ),
    DemoProject(
        "WT-01",
        "全民健身设施购买服务",
        "文体旅游广电局",
        "general_public",
        "800000.00",
        (
            ("output", "quantity", "新建健身点", ">=", "15", "个"),
            AWARENESS,
            ("satisfaction", "service_users", "群众满意度", ">=", "90", "%"),
        ),
        special="service_purchase",
    ),
    DemoProject(
        "WT-02",
        "智慧文旅平台建设",
        "文体旅游广电局",
        "general_public",
        "3500000.00",
        (("output", "quantity", "接入景区", ">=", "20", "个"), AWARENESS, SATISFACTION),
        new_major=True,
    ),
    DemoProject(
        "WT-03",
        "公共文化服务体系建设",
        "文体旅游广电局",
        "general_public",
        "1100000.00",
        (
            ("output", "quantity", "送戏下乡场次", ">=", "120", "场"),
            ("effect", "social", "群众参与人次", ">=", "40000", "人次"),
            SATISFACTION,
        ),
    ),
    DemoProject(
        "WT-04",
        "旅游发展专项资金",
        "文体旅游广电局",
        "government_fund",
        "2400000.00",
        (
            ("output", "quantity", "宣传推介活动", ">=", "10", "次"),
            ("effect", "economic", "旅游收入增长", ">=", "12", "%"),
            SATISFACTION,
        ),
    ),
)

DEPARTMENTS: tuple[str, ...] = tuple(dict.fromkeys(project.department for project in PROJECTS))
WITH_OVERALL_GOALS = DEPARTMENTS[:6]  # 75% coverage: the source plan asks for at least 60% in 2021

REJECTED_EX_ANTE = "WT-02"
GOALS_RETURNED = "WJ-01"
ADJUSTED = "ZJ-01"
ADJUSTMENT_REJECTED = "MZ-01"
RED_DEVIATION = "NY-01"
YELLOW_DEVIATION = "ZJ-01"
UNANSWERED_DEVIATION = "NY-02"
LATE_GOALS = "WT-04"  # submitted 2020-11-03, after the 2020-10-31 deadline
LATE_MONITORING = "GZ-04"  # the January–July report filed 2021-08-18, after 2021-08-15
LATE_SELF_EVALUATION = "GZ-02"  # 2022-04-02, after 2022-03-31
CLOSING_DAY = date(2022, 9, 30)
WEAK = {"JY-04": Decimal("0.80"), "NY-02": Decimal("0.70"), "ZJ-04": Decimal("0.65"), "GZ-02": Decimal("0.50")}
KEY_EVALUATED = "NY-01"
LIBRARY = {
    "GY-SAT-01": {
        "name": "服务对象满意度",
        "level1": "satisfaction",
        "level2": "service_users",
        "operator": ">=",
        "standard": "抽样调查，样本不少于服务对象的5%",
        "unit": "%",
        "industry": "通用",
    },
    "GY-EFF-01": {
        "name": "政策知晓率",
        "level1": "effect",
        "level2": "social",
        "operator": ">=",
        "standard": "问卷调查",
        "unit": "%",
        "industry": "通用",
    },
    "JY-OUT-01": {
        "name": "受益学生人数",
        "level1": "output",
        "level2": "quantity",
        "operator": ">=",
        "standard": "学籍系统统计",
        "unit": "人",
        "industry": "教育",
    },
    "NY-CST-01": {
        "name": "亩均投资",
        "level1": "cost",
        "level2": "economic",
        "operator": "<=",
        "standard": "《高标准农田建设通则》",
        "unit": "元",
        "industry": "农业",
    },
}


def department_principal(name: str) -> Principal:
    return Principal(f"{department_id(name).hex[:8]}-user", "department", name)


def indicators_for(spec: DemoProject, params: rules.RuleParameters) -> list[Indicator]:
    """Give each indicator its share of its level-1 group's weight (output and cost share one group)."""
    groups: dict[str, list[int]] = {}
    for position, item in enumerate(spec.indicators):
        groups.setdefault("output" if item[0] in ("output", "cost") else item[0], []).append(position)
    budget = {
        "output": params.output_weight,
        "effect": params.effect_weight,
        "satisfaction": params.satisfaction_weight,
    }
    weights: dict[int, Decimal] = {}
    for group, positions in groups.items():
        share = (budget[group] / len(positions)).quantize(Decimal("0.01"))
        for position in positions:
            weights[position] = share
        weights[positions[-1]] += budget[group] - share * len(positions)
    result = []
    for position, (level1, level2, name, operator, target, unit) in enumerate(spec.indicators):
        ref = next((code for code, item in LIBRARY.items() if item["name"] == name), None)
        result.append(
            Indicator(
                key=f"I{position + 1}",
                level1=level1,
                level2=level2,
                name=name,
                operator=operator,
                target=target if operator == "qualitative" else Decimal(target),
                unit=unit,
                weight=weights[position],
                library_ref=ref,
            )
        )
    return result


def actuals_for(indicators: list[Indicator], share: Decimal) -> dict[str, object]:
    """What a department reports at year end: targets met, or ``share`` of them for weak projects."""
    result: dict[str, object] = {}
    for indicator in indicators:
        if indicator.operator == "qualitative":
            result[indicator.key] = "好" if share >= 1 else "一般"
            continue
        target = Decimal(indicator.target)
        if share >= 1:
            result[indicator.key] = str(target)
        elif indicator.operator in ("<=", "<"):
            result[indicator.key] = str((target / share).quantize(Decimal("0.01")))
        else:
            result[indicator.key] = str((target * share).quantize(Decimal("0.01")))
    return result
