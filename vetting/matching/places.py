"""Chinese place names that open an enterprise's registered name.

A Chinese enterprise name is usually written place + trade name + industry + organisation form
(北京华信路桥工程有限公司), and people cite it without the place (华信路桥). These are the
provincial-level divisions and the larger cities, in characters and in the romanisation used in
English names, so that the name is also compared without them."""

from __future__ import annotations

#: (characters, romanised) — provinces, municipalities, autonomous regions, SARs, large cities.
PLACES: tuple[tuple[str, str], ...] = (
    ("北京", "beijing"), ("天津", "tianjin"), ("上海", "shanghai"), ("重庆", "chongqing"), ("河北", "hebei"),
    ("山西", "shanxi"), ("内蒙古", "inner mongolia"), ("辽宁", "liaoning"), ("吉林", "jilin"),
    ("黑龙江", "heilongjiang"), ("江苏", "jiangsu"), ("浙江", "zhejiang"), ("安徽", "anhui"), ("福建", "fujian"),
    ("江西", "jiangxi"), ("山东", "shandong"), ("河南", "henan"), ("湖北", "hubei"), ("湖南", "hunan"),
    ("广东", "guangdong"), ("广西", "guangxi"), ("海南", "hainan"), ("四川", "sichuan"), ("贵州", "guizhou"),
    ("云南", "yunnan"), ("西藏", "tibet"), ("陕西", "shaanxi"), ("甘肃", "gansu"), ("青海", "qinghai"),
    ("宁夏", "ningxia"), ("新疆", "xinjiang"), ("香港", "hong kong"), ("澳门", "macau"), ("台湾", "taiwan"),
    ("深圳", "shenzhen"), ("广州", "guangzhou"), ("武汉", "wuhan"), ("成都", "chengdu"), ("南京", "nanjing"),
    ("杭州", "hangzhou"), ("西安", "xi an"), ("郑州", "zhengzhou"), ("长沙", "changsha"), ("沈阳", "shenyang"),
    ("大连", "dalian"), ("青岛", "qingdao"), ("济南", "jinan"), ("苏州", "suzhou"), ("宁波", "ningbo"),
    ("厦门", "xiamen"), ("福州", "fuzhou"), ("合肥", "hefei"), ("南昌", "nanchang"), ("昆明", "kunming"),
    ("贵阳", "guiyang"), ("南宁", "nanning"), ("兰州", "lanzhou"), ("乌鲁木齐", "urumqi"), ("哈尔滨", "harbin"),
    ("长春", "changchun"), ("石家庄", "shijiazhuang"), ("太原", "taiyuan"), ("呼和浩特", "hohhot"),
    ("无锡", "wuxi"), ("佛山", "foshan"), ("东莞", "dongguan"), ("唐山", "tangshan"), ("徐州", "xuzhou"),
)
#: Words that may follow a place in characters (北京市, 广西壮族自治区).
PLACE_SUFFIXES: tuple[str, ...] = tuple(sorted(
    ("省", "市", "自治区", "特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区"), key=len, reverse=True))

_CHINESE = tuple(sorted((p for p, _ in PLACES), key=len, reverse=True))
_LATIN = tuple(sorted((r for _, r in PLACES), key=len, reverse=True))


def without_place(core: str) -> str | None:
    """``core`` (a folded name without its legal form) without a leading place name, or None
    when it does not open with one or nothing of substance would be left."""
    for place in _CHINESE:
        if core.startswith(place):
            rest = core[len(place):]
            for suffix in PLACE_SUFFIXES:
                if rest.startswith(suffix):
                    rest = rest[len(suffix):]
                    break
            rest = rest.strip()
            return rest if len(rest) >= 2 else None
    for place in _LATIN:
        if core.startswith(place + " "):
            rest = core[len(place) + 1:].strip()
            return rest if len(rest.replace(" ", "")) >= 3 and " " in rest else None
    return None
