"""Word lists the generator draws names from: Chinese surnames (including the ones whose
surname reading differs from the everyday one), given-name characters, company-name parts
with legal suffixes and place prefixes, English company words, job titles and streets."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# (surname, weight): the most common surnames dominate, as in real data; the rare ones with a
# special surname reading (单 shan, 曾 zeng, 解 xie, 仇 qiu, 朴 piao, 区 ou, 查 zha, 覃 qin)
# and a few compound surnames are there so search and duplicate checks meet them.
SURNAMES: list[tuple[str, int]] = [
    ("王", 70), ("李", 70), ("张", 68), ("刘", 52), ("陈", 50), ("杨", 33), ("黄", 25),
    ("赵", 23), ("吴", 21), ("周", 21), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13),
    ("胡", 13), ("郭", 12), ("何", 12), ("高", 11), ("林", 11), ("罗", 10), ("郑", 9),
    ("梁", 9), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6),
    ("曹", 5), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 4), ("董", 4), ("袁", 4), ("潘", 4),
    ("于", 4), ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 3), ("苏", 3),
    ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 2), ("汪", 2), ("范", 2), ("金", 2), ("石", 2),
    ("廖", 2), ("贾", 2), ("夏", 2), ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("黎", 2), ("贺", 2), ("顾", 2),
    ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("覃", 1), ("单", 1),
    ("解", 1), ("仇", 1), ("朴", 1), ("区", 1), ("查", 1), ("翟", 1), ("缪", 1), ("盖", 1),
    ("乐", 1), ("纪", 1), ("褚", 1), ("欧阳", 1), ("司马", 1), ("诸葛", 1), ("上官", 1),
]  # fmt: skip

GIVEN_CHARACTERS = _words(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玉 兰 萍 鹏 辉 "
    "玲 建 国 红 飞 波 宇 浩 凯 俊 婷 雪 琳 晨 欣 悦 博 文 斌 峰 健 亮 龙 海 霖 思 雨 佳 怡 "
    "子 轩 梓 涵 睿 哲 宁 瑶 颖 倩 昊 然 诗 琪 嘉 晓 志 永 庆 春 秋 冬 梅 松 柏 林 森 源 泽"
)

ENGLISH_GIVEN = _words(
    "James Mary John Linda Robert Susan Michael Karen David Lisa William Nancy Richard Sandra "
    "Thomas Emily Daniel Laura Peter Anna Mark Julia Paul Grace Kevin Helen Eric Alice"
)
ENGLISH_FAMILY = _words(
    "Smith Johnson Brown Miller Davis Wilson Taylor Clark Lewis Walker Young King Wright "
    "Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans"
)

# Trade-name characters (two make a trade name: 华鑫, 恒达, ...).
TRADE_CHARACTERS = _words(
    "华 鑫 恒 达 盛 宏 泰 瑞 祥 隆 昌 兴 发 源 通 汇 丰 德 信 安 康 宁 和 顺 新 天 宇 博 "
    "创 联 智 远 海 金 银 东 方 中 科 立 诚 益 嘉 振 凯 永 耀 光 明 辉 腾 飞 越 卓 锦 程 "
    "佳 美 欣 悦 鼎 峰 晟 骏 弘 旭 朗 逸 优 赛 迪 维 奥 捷 达 领 航 星 辰 云 泽 川 岳 "
    "森 林 青 蓝 华 亿 万 千 百 合 力 众 邦 宝 福 禄 寿 喜 富 贵 荣 昊 晨 阳 瀚 铭 凯"
)

INDUSTRY_WORDS = [
    "科技", "技术", "网络", "信息", "软件", "电子", "贸易", "商贸", "实业", "发展", "咨询",
    "文化传媒", "工程", "建设", "物流", "医药", "生物", "电器", "机械", "设备", "环保",
    "能源", "通信", "智能", "数据", "食品", "服饰", "家居", "教育科技", "餐饮管理",
]  # fmt: skip

LEGAL_SUFFIXES = [
    ("有限公司", 60), ("股份有限公司", 15), ("有限责任公司", 12), ("集团有限公司", 6),
    ("科技有限公司", 0), ("分公司", 2), ("工作室", 2), ("商行", 1), ("厂", 2),
]  # fmt: skip

ENGLISH_WORDS = _words(
    "Acme Apex Summit Pioneer Horizon Silverline Bluewave Northstar Evergreen Keystone Orion "
    "Redwood Lighthouse Crescent Falcon Harbor Meridian Vertex Zenith Atlas Nova Sterling "
    "Granite Cedar Maple Quantum Vector Pinnacle Beacon Sunrise"
)
ENGLISH_INDUSTRY = _words(
    "Technology Trading Logistics Industries Consulting Electronics Manufacturing Foods "
    "Software Medical Energy Materials Networks Engineering Design Retail Capital"
)
ENGLISH_SUFFIXES = ["Co., Ltd.", "Ltd", "Inc.", "GmbH", "LLC", "Limited", "Corp.", "Pte. Ltd."]

JOB_TITLES = [
    "总经理", "副总经理", "采购经理", "采购专员", "财务总监", "财务经理", "技术总监", "IT 经理",
    "行政主管", "销售总监", "运营经理", "项目经理", "总工程师", "董事长", "人事经理", "法务",
]  # fmt: skip
ENGLISH_TITLES = [
    "CEO", "CFO", "CTO", "Purchasing Manager", "Buyer", "IT Manager", "Office Manager",
    "Project Manager", "Operations Director", "Finance Manager",
]  # fmt: skip

STREETS = [
    "人民路", "解放路", "中山路", "建设路", "长江路", "黄河路", "和平路", "新华路", "东风路",
    "胜利路", "滨江大道", "科技园路", "高新大道", "创业路", "工业大道", "世纪大道",
]  # fmt: skip
DISTRICTS = ["高新区", "经开区", "新城区", "老城区", "滨海新区", "东城区", "西城区", "南山区"]

EMAIL_DOMAINS = ["163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "outlook.com"]

# Mobile prefixes that phonenumbers accepts for mainland China (1[3-9]x).
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188",
    "189", "191", "193", "195", "196", "197", "198", "199",
]  # fmt: skip
# Area codes of a few big cities (landlines: 0AA-XXXXXXXX / 0AAA-XXXXXXX(X)).
AREA_CODES = ["010", "021", "022", "023", "020", "0755", "0571", "025", "027", "028", "029"]

REGION_NAMES = ["华东大区", "华北大区", "华南大区", "华中大区", "西部大区", "东北大区"]
FUNCTIONAL_DEPARTMENTS = ["客服部", "市场部", "财务部", "信息技术部", "人力资源部", "行政部"]
SALES_CITIES = [
    "上海", "杭州", "南京", "苏州", "宁波", "合肥", "北京", "天津", "济南", "青岛", "石家庄",
    "太原", "广州", "深圳", "厦门", "福州", "南宁", "海口", "武汉", "长沙", "郑州", "南昌",
    "成都", "重庆", "西安", "昆明", "贵阳", "兰州", "沈阳", "大连", "长春", "哈尔滨",
]  # fmt: skip
