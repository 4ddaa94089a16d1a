"""China's provincial-level divisions and their prefecture-level cities.

``PROVINCES`` maps each of the 34 provincial-level divisions (official names) to its cities,
the capital first. Municipalities list themselves; Hong Kong, Macau and Taiwan list their
main areas/cities. Province-administered county-level cities (济源, 仙桃, 石河子, ...) are
listed with their province because they appear in addresses the same way.

Besides the data, this module answers the short forms used in company names (广东省 -> 广东,
延边朝鲜族自治州 -> 延边) and which of them are safe to strip from the start of a company name
without their unit (see :data:`COMMON_PLACE_NAMES`).
"""

from __future__ import annotations

from functools import cache

PROVINCES: dict[str, tuple[str, ...]] = {
    "北京市": ("北京市",),
    "天津市": ("天津市",),
    "上海市": ("上海市",),
    "重庆市": ("重庆市",),
    "河北省": (
        "石家庄市", "唐山市", "秦皇岛市", "邯郸市", "邢台市", "保定市", "张家口市", "承德市",
        "沧州市", "廊坊市", "衡水市",
    ),
    "山西省": (
        "太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市",
        "忻州市", "临汾市", "吕梁市",
    ),
    "内蒙古自治区": (
        "呼和浩特市", "包头市", "乌海市", "赤峰市", "通辽市", "鄂尔多斯市", "呼伦贝尔市",
        "巴彦淖尔市", "乌兰察布市", "兴安盟", "锡林郭勒盟", "阿拉善盟",
    ),
    "辽宁省": (
        "沈阳市", "大连市", "鞍山市", "抚顺市", "本溪市", "丹东市", "锦州市", "营口市",
        "阜新市", "辽阳市", "盘锦市", "铁岭市", "朝阳市", "葫芦岛市",
    ),
    "吉林省": (
        "长春市", "吉林市", "四平市", "辽源市", "通化市", "白山市", "松原市", "白城市",
        "延边朝鲜族自治州",
    ),
    "黑龙江省": (
        "哈尔滨市", "齐齐哈尔市", "鸡西市", "鹤岗市", "双鸭山市", "大庆市", "伊春市",
        "佳木斯市", "七台河市", "牡丹江市", "黑河市", "绥化市", "大兴安岭地区",
    ),
    "江苏省": (
        "南京市", "无锡市", "徐州市", "常州市", "苏州市", "南通市", "连云港市", "淮安市",
        "盐城市", "扬州市", "镇江市", "泰州市", "宿迁市",
    ),
    "浙江省": (
        "杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市",
        "舟山市", "台州市", "丽水市",
    ),
    "安徽省": (
        "合肥市", "芜湖市", "蚌埠市", "淮南市", "马鞍山市", "淮北市", "铜陵市", "安庆市",
        "黄山市", "滁州市", "阜阳市", "宿州市", "六安市", "亳州市", "池州市", "宣城市",
    ),
    "福建省": (
        "福州市", "厦门市", "莆田市", "三明市", "泉州市", "漳州市", "南平市", "龙岩市",
        "宁德市",
    ),
    "江西省": (
        "南昌市", "景德镇市", "萍乡市", "九江市", "新余市", "鹰潭市", "赣州市", "吉安市",
        "宜春市", "抚州市", "上饶市",
    ),
    "山东省": (
        "济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市",
        "泰安市", "威海市", "日照市", "临沂市", "德州市", "聊城市", "滨州市", "菏泽市",
    ),
    "河南省": (
        "郑州市", "开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市",
        "濮阳市", "许昌市", "漯河市", "三门峡市", "南阳市", "商丘市", "信阳市", "周口市",
        "驻马店市", "济源市",
    ),
    "湖北省": (
        "武汉市", "黄石市", "十堰市", "宜昌市", "襄阳市", "鄂州市", "荆门市", "孝感市",
        "荆州市", "黄冈市", "咸宁市", "随州市", "恩施土家族苗族自治州", "仙桃市", "潜江市",
        "天门市", "神农架林区",
    ),
    "湖南省": (
        "长沙市", "株洲市", "湘潭市", "衡阳市", "邵阳市", "岳阳市", "常德市", "张家界市",
        "益阳市", "郴州市", "永州市", "怀化市", "娄底市", "湘西土家族苗族自治州",
    ),
    "广东省": (
        "广州市", "韶关市", "深圳市", "珠海市", "汕头市", "佛山市", "江门市", "湛江市",
        "茂名市", "肇庆市", "惠州市", "梅州市", "汕尾市", "河源市", "阳江市", "清远市",
        "东莞市", "中山市", "潮州市", "揭阳市", "云浮市",
    ),
    "广西壮族自治区": (
        "南宁市", "柳州市", "桂林市", "梧州市", "北海市", "防城港市", "钦州市", "贵港市",
        "玉林市", "百色市", "贺州市", "河池市", "来宾市", "崇左市",
    ),
    "海南省": (
        "海口市", "三亚市", "三沙市", "儋州市", "五指山市", "琼海市", "文昌市", "万宁市",
        "东方市",
    ),
    "四川省": (
        "成都市", "自贡市", "攀枝花市", "泸州市", "德阳市", "绵阳市", "广元市", "遂宁市",
        "内江市", "乐山市", "南充市", "眉山市", "宜宾市", "广安市", "达州市", "雅安市",
        "巴中市", "资阳市", "阿坝藏族羌族自治州", "甘孜藏族自治州", "凉山彝族自治州",
    ),
    "贵州省": (
        "贵阳市", "六盘水市", "遵义市", "安顺市", "毕节市", "铜仁市",
        "黔西南布依族苗族自治州", "黔东南苗族侗族自治州", "黔南布依族苗族自治州",
    ),
    "云南省": (
        "昆明市", "曲靖市", "玉溪市", "保山市", "昭通市", "丽江市", "普洱市", "临沧市",
        "楚雄彝族自治州", "红河哈尼族彝族自治州", "文山壮族苗族自治州",
        "西双版纳傣族自治州", "大理白族自治州", "德宏傣族景颇族自治州", "怒江傈僳族自治州",
        "迪庆藏族自治州",
    ),
    "西藏自治区": (
        "拉萨市", "日喀则市", "昌都市", "林芝市", "山南市", "那曲市", "阿里地区",
    ),
    "陕西省": (
        "西安市", "铜川市", "宝鸡市", "咸阳市", "渭南市", "延安市", "汉中市", "榆林市",
        "安康市", "商洛市",
    ),
    "甘肃省": (
        "兰州市", "嘉峪关市", "金昌市", "白银市", "天水市", "武威市", "张掖市", "平凉市",
        "酒泉市", "庆阳市", "定西市", "陇南市", "临夏回族自治州", "甘南藏族自治州",
    ),
    "青海省": (
        "西宁市", "海东市", "海北藏族自治州", "黄南藏族自治州", "海南藏族自治州",
        "果洛藏族自治州", "玉树藏族自治州", "海西蒙古族藏族自治州",
    ),
    "宁夏回族自治区": ("银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"),
    "新疆维吾尔自治区": (
        "乌鲁木齐市", "克拉玛依市", "吐鲁番市", "哈密市", "昌吉回族自治州",
        "博尔塔拉蒙古自治州", "巴音郭楞蒙古自治州", "阿克苏地区", "克孜勒苏柯尔克孜自治州",
        "喀什地区", "和田地区", "伊犁哈萨克自治州", "塔城地区", "阿勒泰地区", "石河子市",
    ),
    "台湾省": (
        "台北市", "新北市", "桃园市", "台中市", "台南市", "高雄市", "基隆市", "新竹市",
        "嘉义市",
    ),
    "香港特别行政区": ("香港岛", "九龙", "新界"),
    "澳门特别行政区": ("澳门半岛", "氹仔", "路环"),
}  # fmt: skip

# Suffixes of official names, longest first, removed to get the short form.
_UNIT_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "林区",
    "地区",
    "省",
    "市",
    "盟",
)
# Peoples named in autonomous prefectures, removed after 自治州 (延边朝鲜族 -> 延边).
_PEOPLES = (
    "朝鲜族", "土家族", "苗族", "布依族", "侗族", "彝族", "哈尼族", "壮族", "傣族", "白族",
    "景颇族", "傈僳族", "藏族", "羌族", "回族", "蒙古族", "蒙古", "哈萨克", "柯尔克孜",
)  # fmt: skip

# Units that may follow a place name in free text: 北京市, 广东省, 海淀区.
PLACE_UNITS = ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")

# Places common enough in company names to be stripped without their unit ("北京华为"):
# every province and municipality, the capitals and the large cities. Other cities are
# stripped only when written with their unit ("宁德市..."), since many of their names are
# also ordinary words or brands (阿里, 白银, 安康, 普洱, 兴安).
MAJOR_CITIES = (
    "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "长沙", "郑州", "青岛",
    "大连", "宁波", "厦门", "福州", "济南", "合肥", "沈阳", "哈尔滨", "长春", "石家庄", "太原",
    "南昌", "南宁", "昆明", "贵阳", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特",
    "海口", "三亚", "无锡", "东莞", "佛山", "珠海", "温州", "绍兴", "嘉兴", "常州", "南通",
    "徐州", "扬州", "烟台", "潍坊", "泉州", "惠州", "汕头", "洛阳", "唐山", "保定", "廊坊",
    "台北", "高雄",
)  # fmt: skip


def short_name(official: str) -> str:
    """广东省 -> 广东, 广西壮族自治区 -> 广西, 延边朝鲜族自治州 -> 延边, 香港岛 -> 香港岛."""
    for suffix in _UNIT_SUFFIXES:
        if official.endswith(suffix) and len(official) > len(suffix) + 1:
            text = official[: -len(suffix)]
            if suffix == "自治州":
                changed = True
                while changed:
                    changed = False
                    for people in _PEOPLES:
                        if text.endswith(people) and len(text) > len(people) + 1:
                            text = text[: -len(people)]
                            changed = True
            return text
    return official


@cache
def province_short_names() -> frozenset[str]:
    return frozenset(short_name(name) for name in PROVINCES)


@cache
def city_short_names() -> frozenset[str]:
    return frozenset(short_name(city) for cities in PROVINCES.values() for city in cities)


@cache
def all_place_names() -> frozenset[str]:
    """Official and short names of every province and city listed."""
    names: set[str] = set()
    for province, cities in PROVINCES.items():
        names.update((province, short_name(province)))
        for city in cities:
            names.update((city, short_name(city)))
    return frozenset(names)


@cache
def common_place_names() -> tuple[str, ...]:
    """Short names safe to strip without a unit, longest first."""
    names = set(province_short_names()) | set(MAJOR_CITIES)
    for cities in PROVINCES.values():
        names.add(short_name(cities[0]))  # the capital
    names -= {"香港岛", "澳门半岛"}
    return tuple(sorted(names, key=len, reverse=True))


@cache
def official_place_names() -> tuple[str, ...]:
    """Official names that carry a unit (宁德市, 恩施土家族苗族自治州), longest first."""
    names = {name for name in all_place_names() if short_name(name) != name}
    return tuple(sorted(names, key=len, reverse=True))


@cache
def short_place_names() -> tuple[str, ...]:
    """Short names of every province and city, longest first: stripped when a unit follows
    (宁德市, 恩施州)."""
    names = province_short_names() | city_short_names()
    return tuple(sorted(names, key=len, reverse=True))


def province_of(city: str) -> str | None:
    """The province of a city given by its official or short name, or None."""
    for province, cities in PROVINCES.items():
        for candidate in cities:
            if city in (candidate, short_name(candidate)):
                return province
    if city in PROVINCES:
        return city
    for province in PROVINCES:
        if short_name(province) == city:
            return province
    return None
