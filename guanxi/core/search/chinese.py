"""Chinese text helpers for the search index: jieba words, pinyin, initials, surnames and
company-name cores.

jieba loads its dictionary on first use (about a second), so it is initialised lazily, once,
and quietly. Pinyin comes from pypinyin without tones; personal names read their first
character(s) with the surname reading (单 -> shan, not dan; 曾 -> zeng, not ceng).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Sequence

CJK_CLASS = (
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0002ebef"  # extensions B-F
    "\U00030000-\U0003134f"  # extension G
)
CJK_RE = re.compile(f"[{CJK_CLASS}]")
_ALNUM_RE = re.compile(r"[a-z0-9]+")

# --- surnames --------------------------------------------------------------------------------
# Compound surnames first: they are matched before the single-character ones.
COMPOUND_SURNAMES: dict[str, list[str]] = {
    "欧阳": ["ou", "yang"],
    "司马": ["si", "ma"],
    "诸葛": ["zhu", "ge"],
    "上官": ["shang", "guan"],
    "尉迟": ["yu", "chi"],
    "万俟": ["mo", "qi"],
    "单于": ["chan", "yu"],
    "长孙": ["zhang", "sun"],
    "令狐": ["ling", "hu"],
    "皇甫": ["huang", "fu"],
    "东方": ["dong", "fang"],
    "夏侯": ["xia", "hou"],
    "公孙": ["gong", "sun"],
    "慕容": ["mu", "rong"],
    "宇文": ["yu", "wen"],
    "澹台": ["tan", "tai"],
    "司徒": ["si", "tu"],
    "司空": ["si", "kong"],
    "南宫": ["nan", "gong"],
    "呼延": ["hu", "yan"],
    "轩辕": ["xuan", "yuan"],
    "闻人": ["wen", "ren"],
    "赫连": ["he", "lian"],
    "端木": ["duan", "mu"],
    "百里": ["bai", "li"],
    "钟离": ["zhong", "li"],
    "宗政": ["zong", "zheng"],
    "濮阳": ["pu", "yang"],
    "淳于": ["chun", "yu"],
    "申屠": ["shen", "tu"],
    "公冶": ["gong", "ye"],
    "左丘": ["zuo", "qiu"],
    "拓跋": ["tuo", "ba"],
}

# Single characters whose surname reading differs from pypinyin's everyday reading.
SURNAMES: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "覃": "qin",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "乐": "yue",
    "员": "yun",
    "种": "chong",
    "秘": "bi",
    "召": "shao",
    "繁": "po",
    "长": "chang",
    "折": "she",
    "能": "nai",
    "句": "gou",
    "隗": "wei",
    "冼": "xian",
    "燕": "yan",
    "柏": "bai",
    "宓": "mi",
    "纪": "ji",
    "沈": "shen",
    "贾": "jia",
    "石": "shi",
    "重": "chong",
    "褚": "chu",
    "薄": "bo",
    "黑": "he",
    "阚": "kan",
    "眭": "sui",
    "殷": "yin",
    "谌": "chen",
    "洗": "xian",
    "郇": "huan",
    "亓": "qi",
    "佴": "nai",
}

# --- company names ---------------------------------------------------------------------------
LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "集团股份有限公司",
        "控股有限公司",
        "有限公司",
        "集团公司",
        "分公司",
        "子公司",
        "总公司",
        "办事处",
        "公司",
        "集团",
        "股份",
        "工作室",
        "事务所",
    ],
    key=len,
    reverse=True,
)
INDUSTRY_SUFFIXES = sorted(
    [
        "科技",
        "技术",
        "网络",
        "信息",
        "软件",
        "电子",
        "贸易",
        "商贸",
        "实业",
        "发展",
        "投资",
        "咨询",
        "服务",
        "管理",
        "文化",
        "传媒",
        "工程",
        "建设",
        "物流",
        "控股",
        "国际",
        "医药",
        "生物",
        "电器",
        "机械",
        "设备",
        "环保",
        "能源",
        "通信",
        "智能",
        "数据",
    ],
    key=len,
    reverse=True,
)
_PLACES = """
北京 上海 天津 重庆 广东 江苏 浙江 山东 河南 河北 湖南 湖北 四川 福建 安徽 江西
辽宁 吉林 黑龙江 山西 陕西 甘肃 青海 云南 贵州 海南 广西 内蒙古 宁夏 新疆 西藏 香港 澳门 台湾
广州 深圳 杭州 南京 苏州 成都 武汉 西安 长沙 郑州 青岛 大连 宁波 厦门 福州 济南 合肥 沈阳
哈尔滨 长春 石家庄 太原 南昌 南宁 昆明 贵阳 兰州 西宁 银川 乌鲁木齐 拉萨 呼和浩特 海口 三亚
无锡 东莞 佛山 珠海 中山 温州 绍兴 嘉兴 金华 台州 常州 南通 徐州 扬州 烟台 潍坊 泉州 惠州
江门 汕头 洛阳 唐山 保定 廊坊
"""
# Provinces, municipalities, regions and large cities that prefix company names.
PLACE_PREFIXES = sorted(_PLACES.split(), key=len, reverse=True)
_PLACE_UNITS = ("省", "市", "自治区")
_PARENTHESISED = re.compile(r"[(（][^()（）]*[)）]")

_jieba_lock = threading.Lock()
_jieba = None


def has_cjk(text: str) -> bool:
    return CJK_RE.search(text) is not None


def jieba_words(text: str) -> list[str]:
    """jieba's search-mode segmentation (overlapping words), dictionary loaded on first use."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba.lcut_for_search(text)


def _clean(parts: list[str]) -> list[str]:
    """Keep syllables and ASCII letters/digits; pypinyin passes non-Chinese runs through."""
    cleaned: list[str] = []
    for part in parts:
        cleaned.extend(_ALNUM_RE.findall(part.lower()))
    return cleaned


@functools.lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin of every Chinese character; other letters and digits as runs.
    Cached: the same words and names come back again and again."""
    from pypinyin import lazy_pinyin

    return tuple(_clean(lazy_pinyin(text)))


def name_syllables(name: str) -> tuple[list[str], list[str]]:
    """(surname syllables, given-name syllables) of a Chinese personal name."""
    for surname, reading in COMPOUND_SURNAMES.items():
        if name.startswith(surname) and len(name) > len(surname):
            return list(reading), list(syllables(name[len(surname) :]))
    first = name[:1]
    if first in SURNAMES:
        return [SURNAMES[first]], list(syllables(name[1:]))
    return list(syllables(first)), list(syllables(name[1:]))


def initials(parts: Sequence[str]) -> str:
    return "".join(part[0] for part in parts if part)


def _strip_prefix(text: str, prefixes: list[str]) -> str:
    for prefix in prefixes:
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            for unit in _PLACE_UNITS:
                if rest.startswith(unit):
                    rest = rest[len(unit) :]
                    break
            if len(rest) >= 2:
                return rest
    return text


def _strip_suffixes(text: str, suffixes: list[str]) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                text = text[: -len(suffix)]
                changed = True
                break
    return text


def name_cores(name: str) -> list[str]:
    """A company name and its ever shorter cores, so initials of the core match:

    北京华为技术有限公司 -> 北京华为技术 -> 华为技术 -> 华为.
    """
    variants = [name]
    text = _PARENTHESISED.sub("", name).strip() or name
    variants.append(text)
    text = _strip_suffixes(text, LEGAL_SUFFIXES)
    variants.append(text)
    text = _strip_prefix(text, PLACE_PREFIXES)
    variants.append(text)
    text = _strip_suffixes(text, INDUSTRY_SUFFIXES)
    variants.append(text)
    seen: dict[str, None] = {}
    for variant in variants:
        if variant and variant not in seen:
            seen[variant] = None
    return list(seen)
