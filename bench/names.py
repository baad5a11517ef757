"""Synthetic Chinese enterprises for the search benchmarks, perturbed queries, and a fast loader.

``generate(n, seed)`` yields enterprises named the way Chinese companies are registered:
an optional place (province or city), a two- or three-character trade name, an industry word
and a legal form (华信路桥集团有限公司), with an English legal name built from the pinyin of
the trade name ("Jiangsu Huaxin Road and Bridge Group Co., Ltd."), 0–2 aliases, a host
country, a sector and a valid, unique USCC. Trade name + industry, run together, is unique in
its pinyin spelling, so every query below has one right answer; a few families share it and
differ by a numbered branch (第三工程 / "No.3 Engineering"), as 中铁三局 and 中铁五局 do.
A million are all distinct (``--stats 1000000``).

``queries(enterprises, k, seed)`` perturbs k of them the ways people type a name (see
``KINDS``) and records which enterprise each should find.

``load(engine, enterprises)`` inserts them (COPY on PostgreSQL, chunked executemany on SQLite);
``index_fast(engine, enterprises, first_id)`` writes the search index as
``vetting.services.search.index_enterprises`` would (its ``index_rows`` run in worker processes,
the rows bulk-inserted, then its ``refresh_token_stats``); ``check_index`` compares a sample
with what the service computes from the stored names.

Usage: python bench/names.py [--n 20] [--seed 1] [--queries 18] [--stats N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stdnum.cn import uscc  # noqa: E402

from vetting.models import SECTORS  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Pools

#: (Chinese, English, administrative division code used in the USCC)
PLACES: tuple[tuple[str, str, str], ...] = (
    ("北京", "Beijing", "110000"), ("天津", "Tianjin", "120000"), ("河北", "Hebei", "130000"),
    ("山西", "Shanxi", "140000"), ("内蒙古", "Inner Mongolia", "150000"), ("辽宁", "Liaoning", "210000"),
    ("吉林", "Jilin", "220000"), ("黑龙江", "Heilongjiang", "230000"), ("上海", "Shanghai", "310000"),
    ("江苏", "Jiangsu", "320000"), ("浙江", "Zhejiang", "330000"), ("安徽", "Anhui", "340000"),
    ("福建", "Fujian", "350000"), ("江西", "Jiangxi", "360000"), ("山东", "Shandong", "370000"),
    ("河南", "Henan", "410000"), ("湖北", "Hubei", "420000"), ("湖南", "Hunan", "430000"),
    ("广东", "Guangdong", "440000"), ("广西", "Guangxi", "450000"), ("海南", "Hainan", "460000"),
    ("重庆", "Chongqing", "500000"), ("四川", "Sichuan", "510000"), ("贵州", "Guizhou", "520000"),
    ("云南", "Yunnan", "530000"), ("陕西", "Shaanxi", "610000"), ("甘肃", "Gansu", "620000"),
    ("青海", "Qinghai", "630000"), ("宁夏", "Ningxia", "640000"), ("新疆", "Xinjiang", "650000"),
    ("深圳", "Shenzhen", "440300"), ("广州", "Guangzhou", "440100"), ("武汉", "Wuhan", "420100"),
    ("成都", "Chengdu", "510100"), ("南京", "Nanjing", "320100"), ("杭州", "Hangzhou", "330100"),
    ("西安", "Xi'an", "610100"), ("长沙", "Changsha", "430100"), ("郑州", "Zhengzhou", "410100"),
    ("青岛", "Qingdao", "370200"), ("大连", "Dalian", "210200"), ("宁波", "Ningbo", "330200"),
    ("厦门", "Xiamen", "350200"), ("苏州", "Suzhou", "320500"), ("合肥", "Hefei", "340100"),
    ("昆明", "Kunming", "530100"), ("济南", "Jinan", "370100"), ("福州", "Fuzhou", "350100"),
    ("沈阳", "Shenyang", "210100"), ("哈尔滨", "Harbin", "230100"),
)

#: Characters trade names are made of. No numerals (they would read as branch numbers) and
#: nothing from the legal forms (公司, 集团, 股份 …).
BRAND_CHARS = tuple(dict.fromkeys(
    "华中国信达通宏泰盛恒鑫源隆兴丰安康德昌富瑞祥金海天远航嘉佳建新宇博创科汇鼎晟腾龙凯辉明光伟永"
    "东南西北江山峰云星汉振坤元正诚益实力联合众民利成荣威顺胜捷迅英杰俊豪雄浩志鸿润泽清晶蓝青绿"
    "紫红银铭锦绣美雅韵诺优卓越尚品智慧聚盈裕邦家乐福禄寿喜春秋冬夏阳辰亿万千百久长宁静平谐同仁"
    "义礼忠赛奥迪环球宝玉珠翔飞鹏鹰虎豹狮骏马麒麟凤凰松柏竹梅兰菊桂川岳林森湖波涛洋沃丽欣悦睿哲"
))

#: (Chinese, English, sector)
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("路桥", "Road and Bridge", "infrastructure"), ("港务", "Port", "transport"), ("矿业", "Mining", "mining"),
    ("电力", "Electric Power", "power"), ("水泥", "Cement", "manufacturing"), ("纺织", "Textile", "manufacturing"),
    ("通信", "Communication", "telecom"), ("建设", "Construction", "infrastructure"),
    ("建工", "Construction Engineering", "infrastructure"), ("铁路", "Railway", "transport"),
    ("航运", "Shipping", "transport"), ("物流", "Logistics", "transport"), ("能源", "Energy", "power"),
    ("新能源", "New Energy", "renewables"), ("光伏", "Photovoltaic", "renewables"), ("风电", "Wind Power", "renewables"),
    ("石油", "Petroleum", "oil_gas"), ("燃气", "Gas", "oil_gas"), ("化工", "Chemical", "chemicals"),
    ("钢铁", "Iron and Steel", "manufacturing"), ("机械", "Machinery", "manufacturing"), ("水务", "Water", "water"),
    ("环保", "Environmental Protection", "water"), ("农业", "Agriculture", "agriculture"),
    ("农牧", "Agriculture and Animal Husbandry", "agriculture"), ("置业", "Real Estate", "real_estate"),
    ("地产", "Property", "real_estate"), ("电子", "Electronics", "telecom"),
    ("有色金属", "Nonferrous Metals", "mining"), ("水电", "Hydropower", "power"),
    ("交通", "Transportation", "transport"), ("电气", "Electric", "manufacturing"), ("科技", "Technology", "telecom"),
    ("化肥", "Fertilizer", "chemicals"), ("港口", "Harbour", "transport"),
)

#: Chinese legal form → English renderings of it (weighted by repetition).
SUFFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("有限公司", ("Co., Ltd.", "Co., Ltd.", "Co., Ltd.", "Limited", "Company Limited")),
    ("集团有限公司", ("Group Co., Ltd.", "Group Co., Ltd.", "Group Limited")),
    ("股份有限公司", ("Co., Ltd.", "Corporation Limited", "Joint Stock Co., Ltd.")),
    ("有限责任公司", ("Co., Ltd.", "LLC")),
    ("集团股份有限公司", ("Group Corporation Limited", "Group Co., Ltd.")),
)
SUFFIX_WEIGHTS = (55, 20, 15, 6, 4)

#: Legal forms a person may write instead of the registered one.
OTHER_FORMS = ("Co., Ltd.", "Limited", "Company Limited", "Corporation", "Inc.", "Co. Ltd", "Ltd.", "LLC", "Corp.", "Company")

#: Countries an enterprise is filed under (China first: most are registered there).
COUNTRIES = ("CN",) * 12 + ("KE", "NG", "ET", "PK", "ID", "MY", "KZ", "LA", "KH", "VN", "BD", "LK", "EG", "ZA", "AO", "TZ",
                            "ZM", "BR", "PE", "RS", "HU", "AE", "SA", "UZ", "MM", "TH", "PH", "DZ", "GH", "SG")

NUMERALS = "一二三四五六七八九"
KINDS = ("exact_chinese", "chinese_short", "traditional", "pinyin_spaced", "pinyin_joined", "english_other_form",
         "english_typo", "word_order", "fullwidth")

assert all(sector in SECTORS for _c, _e, sector in INDUSTRIES)
assert not set(BRAND_CHARS) & set(NUMERALS + "十〇公司集团股份控限责")


@dataclass(slots=True)
class Enterprise:
    legal_name: str
    chinese_name: str
    aliases: list[str]
    country: str
    sector: str
    uscc: str
    # the parts the name was built from, for the queries
    place: int  # index in PLACES, -1 for none
    brand: str
    brand_en: str
    industry: int
    branch: int  # 0 for none
    suffix: int
    form_en: str

    def names(self) -> list[str]:
        """What ``vetting.services.search.names_of`` returns for this enterprise."""
        return [n for n in (self.legal_name, self.chinese_name) if n] + list(self.aliases)

    def short_chinese(self) -> str:
        branch = f"第{NUMERALS[self.branch - 1]}工程" if self.branch else ""
        return f"{self.brand}{INDUSTRIES[self.industry][0]}{branch}"

    def core_units_en(self) -> list[str]:
        """The English name without its legal form, as units that may be reordered."""
        units = [PLACES[self.place][1]] if self.place >= 0 else []
        units += [self.brand_en, INDUSTRIES[self.industry][1]]
        if self.branch:
            units.append(f"No.{self.branch} Engineering")
        return units


# ---------------------------------------------------------------------------------------------
# Generation

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_SPACE = 31 ** 9
_ORG_STEP = 25_214_903_917  # not a multiple of 31, so index -> code is one-to-one
assert _ORG_STEP % 31


def make_uscc(index: int, region: str, rnd: random.Random, offset: int) -> str:
    """A valid USCC whose 9-character organisation code is a bijection of ``index`` (unique)."""
    code = (index * _ORG_STEP + offset) % _ORG_SPACE  # a permutation of the code space
    org = []
    for _ in range(9):
        code, digit = divmod(code, 31)
        org.append(_USCC_ALPHABET[digit])
    body = "9" + rnd.choice("1111112223") + region + "".join(reversed(org))
    number = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(number), number
    return number


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def _initials(words: Sequence[str]) -> str:
    return "".join(w[0] for w in words if w and w[0].isalpha()).upper()


def generate(n: int, seed: int = 1) -> Iterator[Enterprise]:
    """Yield ``n`` synthetic enterprises (deterministic for a seed)."""
    rnd = random.Random(seed)
    offset = rnd.randrange(_ORG_SPACE)
    # the pinyin of trade name + industry run together: 华新+能源 and 华+新能源 are the same key
    taken: set[str] = set()
    industry_pinyin = ["".join(_pinyin(cn)) for cn, _en, _sector in INDUSTRIES]
    made = 0
    while made < n:
        industry = rnd.randrange(len(INDUSTRIES))
        for attempt in itertools.count():
            length = 2 if rnd.random() < 0.35 and attempt < 8 else 3
            brand = "".join(rnd.choice(BRAND_CHARS) for _ in range(length))
            syllables = _pinyin(brand)
            key = "".join(syllables) + industry_pinyin[industry]
            if key not in taken and len(syllables) == length:
                taken.add(key)
                break
        brand_en = "".join(syllables).capitalize()
        # A family (4% of draws) is several numbered branches sharing trade name and industry.
        branches = sorted(rnd.sample(range(1, 10), rnd.randint(2, 4))) if rnd.random() < 0.04 else [0]
        for branch in branches:
            if made >= n:
                break
            place = rnd.randrange(len(PLACES)) if rnd.random() < 0.6 else -1
            suffix = rnd.choices(range(len(SUFFIXES)), weights=SUFFIX_WEIGHTS)[0]
            suffix_cn, forms_en = SUFFIXES[suffix]
            form_en = rnd.choice(forms_en)
            ent = Enterprise(legal_name="", chinese_name="", aliases=[], country=rnd.choice(COUNTRIES),
                             sector=INDUSTRIES[industry][2], uscc="", place=place, brand=brand, brand_en=brand_en,
                             industry=industry, branch=branch, suffix=suffix, form_en=form_en)
            place_cn = PLACES[place][0] if place >= 0 else ""
            ent.chinese_name = place_cn + ent.short_chinese() + suffix_cn
            ent.legal_name = " ".join(ent.core_units_en() + [form_en])
            region = PLACES[place][2] if place >= 0 else rnd.choice(PLACES)[2]
            ent.uscc = make_uscc(made, region, rnd, offset)
            short_en = " ".join(ent.core_units_en()[1:] if place >= 0 else ent.core_units_en())
            options = [ent.short_chinese(), short_en,
                       _initials([*syllables, *INDUSTRIES[industry][1].replace(" and ", " ").split()])]
            ent.aliases = rnd.sample(options, rnd.choice((0, 1, 1, 2)))
            made += 1
            yield ent


# ---------------------------------------------------------------------------------------------
# Queries

_S2T = None


def traditional(text: str) -> str:
    global _S2T
    if _S2T is None:
        from opencc import OpenCC

        _S2T = OpenCC("s2t")
    return _S2T.convert(text)


def fullwidth(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _typo(word: str, rnd: random.Random) -> str:
    for _ in range(20):
        i = rnd.randrange(1, len(word) - 1) if len(word) > 2 else 0
        if rnd.random() < 0.5 and len(word) >= 5:
            out = word[:i] + word[i + 1:]  # a letter dropped
        else:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2:]  # two letters swapped
        if out.lower() != word.lower():
            return out[0].upper() + out[1:]
    return word + word[-1]


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    kind: str
    expected: int  # index of the enterprise in the generated sequence


def perturb(ent: Enterprise, kind: str, rnd: random.Random) -> str:
    if kind == "exact_chinese":
        return ent.chinese_name
    if kind == "chinese_short":
        return ent.short_chinese()
    if kind == "traditional":
        return traditional(ent.chinese_name)
    if kind in ("pinyin_spaced", "pinyin_joined"):
        syllables = [s for s in _pinyin(ent.short_chinese()) if s.strip()]
        return (" " if kind == "pinyin_spaced" else "").join(syllables)
    units = ent.core_units_en()
    if kind == "english_other_form":
        return " ".join(units + [rnd.choice([f for f in OTHER_FORMS if f != ent.form_en])])
    if kind == "english_typo":
        units = [_typo(u, rnd) if u == ent.brand_en else u for u in units]
        return " ".join(units + [ent.form_en])
    if kind == "word_order":
        order = list(units)
        while order == units:
            rnd.shuffle(order)
        return " ".join(order + [ent.form_en])
    if kind == "fullwidth":
        return fullwidth(ent.legal_name)
    raise ValueError(kind)


def queries(enterprises: Sequence[Enterprise], k: int, seed: int = 2) -> list[Query]:
    """``k`` queries cycling through ``KINDS``, each for a different enterprise picked at random."""
    rnd = random.Random(seed)
    picked = rnd.sample(range(len(enterprises)), min(k, len(enterprises)))
    return [Query(perturb(enterprises[i], KINDS[j % len(KINDS)], rnd), KINDS[j % len(KINDS)], i)
            for j, i in enumerate(picked)]


# ---------------------------------------------------------------------------------------------
# Loading

def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=timezone.utc)


def _postgres(engine) -> bool:  # noqa: ANN001
    return engine.dialect.name == "postgresql"


def _copy(engine, table: str, columns: list[str], rows: Iterator[tuple]) -> int:  # noqa: ANN001
    raw = engine.raw_connection()
    count = 0
    try:
        with raw.driver_connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        raw.driver_connection.commit()
    finally:
        raw.close()
    return count


def _executemany(engine, table: str, columns: list[str], rows: Iterator[tuple], chunk: int = 20_000) -> int:  # noqa: ANN001
    from sqlalchemy import insert

    from vetting.models import Base

    statement = insert(Base.metadata.tables[table])
    count = 0
    with engine.begin() as conn:
        while batch := [dict(zip(columns, row)) for row in itertools.islice(rows, chunk)]:
            conn.execute(statement, batch)
            count += len(batch)
    return count


def bulk_insert(engine, table: str, columns: str, rows: Iterator[tuple]) -> int:  # noqa: ANN001
    """COPY on PostgreSQL, SQLAlchemy Core executemany in chunks elsewhere."""
    names = [c.strip() for c in columns.split(",")]
    return (_copy if _postgres(engine) else _executemany)(engine, table, names, rows)


def load(engine, enterprises: Sequence[Enterprise]) -> int:  # noqa: ANN001
    """Insert the enterprises with their USCCs and aliases; returns the id of the first one
    (the i-th generated enterprise gets ``first_id + i``)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        first_id = (conn.scalar(text("SELECT max(id) FROM enterprises")) or 0) + 1
    now = _now().replace(tzinfo=None) if _postgres(engine) else _now()  # COPY takes the stored (naive UTC) form
    bulk_insert(engine, "enterprises", "id, legal_name, chinese_name, country, sector, created_at, updated_at, version",
                ((first_id + i, e.legal_name, e.chinese_name, e.country, e.sector, now, now, 1)
                 for i, e in enumerate(enterprises)))
    bulk_insert(engine, "identifiers", "enterprise_id, scheme, value",
                ((first_id + i, "uscc", e.uscc) for i, e in enumerate(enterprises)))
    bulk_insert(engine, "enterprise_aliases", "enterprise_id, name, kind",
                ((first_id + i, a, "alias") for i, e in enumerate(enterprises) for a in e.aliases))
    if _postgres(engine):
        with engine.begin() as conn:
            for table in ("enterprises", "identifiers", "enterprise_aliases"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    return first_id


def _index_rows(chunk: list[tuple[int, list[str], int]]) -> tuple[list[tuple], list[tuple]]:
    """The service's own ``index_rows`` for a chunk of (id, names, own) (run in a worker)."""
    from vetting.services.search import index_rows

    tokens_out, forms_out = [], []
    for ent_id, names, own in chunk:
        token_rows, forms_rows = index_rows(ent_id, names, own)
        tokens_out += [(r["enterprise_id"], r["token"]) for r in token_rows]
        forms_out += [(r["enterprise_id"], r["name"], r["own"], r["forms"]) for r in forms_rows]
    return tokens_out, forms_out


def index_fast(engine, enterprises: Sequence[Enterprise], first_id: int, *, workers: int | None = None,  # noqa: ANN001
               progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write the search index of the loaded enterprises as ``index_enterprises`` does
    (``name_tokens`` and ``name_forms`` rows from the service's ``index_rows``), computed over
    processes and bulk-inserted, then the token statistics with the service's
    ``refresh_token_stats``. Returns the numbers of token and form rows."""
    import multiprocessing

    from sqlalchemy.orm import Session

    from vetting.services.search import refresh_token_stats

    # names in the order names_of gives them (legal, Chinese, aliases), the first 1 or 2 own
    work = [(first_id + i, e.names(), 2 if e.chinese_name else 1) for i, e in enumerate(enterprises)]
    chunk = 2000
    chunks = [work[i:i + chunk] for i in range(0, len(work), chunk)]
    folder = tempfile.mkdtemp(prefix="vetting-bench-forms-")
    spill = Path(folder) / "name_forms.pickle"
    token_count = 0
    try:
        def token_rows() -> Iterator[tuple]:
            # tokens go straight to the database; form rows wait in a file for their own insert
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers or os.cpu_count() or 1) as pool, spill.open("wb") as fh:
                for toks, forms_rows in pool.imap(_index_rows, chunks):
                    pickle.dump(forms_rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
                    yield from toks
                    if progress:
                        progress(chunk)

        def form_rows() -> Iterator[tuple]:
            with spill.open("rb") as fh:
                while True:
                    try:
                        yield from pickle.load(fh)
                    except EOFError:
                        return

        token_count = bulk_insert(engine, "name_tokens", "enterprise_id, token", token_rows())
        form_count = bulk_insert(engine, "name_forms", "enterprise_id, name, own, forms", form_rows())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with Session(engine) as session:
        refresh_token_stats(session)
        session.commit()
    return token_count, form_count


def copy_index(engine, source: str, offset: int) -> tuple[int, int]:  # noqa: ANN001
    """Write the search index by copying the rows of another database built from the same
    enterprises (``source``: its URL; its ids plus ``offset`` are this database's), in their
    order, then the token statistics with the service's ``refresh_token_stats``: the rows
    ``index_fast`` would compute again, without computing them. Returns the numbers of rows."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from vetting.services.search import refresh_token_stats

    reading = create_engine(source)
    try:
        with reading.connect() as conn:
            def read(sql: str) -> Iterator[tuple]:
                yield from conn.execution_options(stream_results=True, yield_per=20_000).execute(text(sql))

            token_count = bulk_insert(engine, "name_tokens", "enterprise_id, token", (
                (ent_id + offset, token) for ent_id, token in read("SELECT enterprise_id, token FROM name_tokens ORDER BY id")))
            form_count = bulk_insert(engine, "name_forms", "enterprise_id, name, own, forms", (
                (ent_id + offset, name, bool(own), packed)
                for ent_id, name, own, packed in read("SELECT enterprise_id, name, own, forms FROM name_forms ORDER BY id")))
    finally:
        reading.dispose()
    with Session(engine) as session:
        refresh_token_stats(session)
        session.commit()
    return token_count, form_count


def check_index(session, enterprise_ids: Sequence[int]) -> int:  # noqa: ANN001
    """Compare the stored index rows of these enterprises with what the service computes now
    from the stored names; raises on a difference, returns the number checked."""
    from sqlalchemy import case, select

    from vetting.models import Enterprise, NameForms, NameToken
    from vetting.services.search import index_rows, names_of

    ids = list(enterprise_ids)
    tokens: dict[int, list[str]] = {i: [] for i in ids}
    for ent_id, token in session.execute(select(NameToken.enterprise_id, NameToken.token).where(NameToken.enterprise_id.in_(ids))):
        tokens[ent_id].append(token)
    forms: dict[int, list[tuple]] = {i: [] for i in ids}
    for ent_id, name, own, packed in session.execute(select(NameForms.enterprise_id, NameForms.name, NameForms.own, NameForms.forms)
                                                     .where(NameForms.enterprise_id.in_(ids)).order_by(NameForms.id)):
        forms[ent_id].append((name, bool(own), packed))
    owns = dict(session.execute(select(Enterprise.id, case((Enterprise.chinese_name.is_(None), 1), else_=2))
                                .where(Enterprise.id.in_(ids))).all())
    for ent_id, names in names_of(session, ids).items():
        token_rows, forms_rows = index_rows(ent_id, names, owns[ent_id])
        if sorted(tokens[ent_id]) != sorted(r["token"] for r in token_rows):
            raise AssertionError(f"name_tokens of enterprise {ent_id} differ from the service's")
        if forms[ent_id] != [(r["name"], r["own"], r["forms"]) for r in forms_rows]:
            raise AssertionError(f"name_forms of enterprise {ent_id} differ from the service's")
    return len(ids)


# ---------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="enterprises to print")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=len(KINDS), help="queries to print")
    parser.add_argument("--stats", type=int, default=0, help="generate this many and report how distinct they are")
    args = parser.parse_args()
    if args.stats:
        t = time.perf_counter()
        ents = list(generate(args.stats, args.seed))
        took = time.perf_counter() - t
        codes = [e.uscc for e in ents]
        assert all(uscc.is_valid(c) for c in codes)
        print(f"{len(ents):,} generated in {took:.1f}s; USCCs valid, {len(set(codes)):,} distinct")
        for label, values in (("Chinese names", [e.chinese_name for e in ents]), ("English names", [e.legal_name for e in ents]),
                              ("short Chinese names", [e.short_chinese() for e in ents])):
            print(f"{label}: {len(set(values)):,} distinct ({len(set(values)) / len(values):.1%})")
        print("aliases per enterprise:", sorted(Counter(len(e.aliases) for e in ents).items()))
        print("sectors:", Counter(e.sector for e in ents).most_common())
        print("branches:", sum(1 for e in ents if e.branch))
        return
    ents = list(generate(max(args.n, args.queries), args.seed))
    for e in ents[:args.n]:
        print(f"{e.uscc}  {e.country}  {e.sector:<14} {e.chinese_name}  |  {e.legal_name}  |  {e.aliases}")
    print()
    for q in queries(ents, args.queries, args.seed + 1):
        print(f"{q.kind:<20} {q.text!r:<60} -> {ents[q.expected].chinese_name}")


if __name__ == "__main__":
    main()
