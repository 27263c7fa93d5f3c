"""Documents: how long the hub takes to hand out a 人民调解协议书 and a whole 卷宗, beside the same renderer printing
plain text of the same length and page count.

    python -m bench.documents                  # 200 agreements, 50 files of about 20 pages, a fresh SQLite file
    python -m bench.documents --smoke          # 5 agreements, 2 files: a few seconds
    python -m bench.documents --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_documents

The data goes through the real services, as a mediator's work would: ``register_case``, ``accept_case``,
``record_session``, ``conclude_case`` and ``record_follow_up`` (the SYSTEM actor) in an organisation of its own.
Every agreement case has its own parties, summary, terms (two to eight clauses) and amount, so no document is
a copy of another; every file case has four or five sessions with long records (each record, with the
parties' signatures, takes two pages) and two or three follow-ups, so its 卷宗 runs to 18–22 pages (the page
counts printed are the real ones).

Measured, per document, in this process (no HTTP):

- **issue**: ``documents.service.issue(actor, "case", id, kind)`` and the commit, by a mediator of the handling
  organisation: reading the case, the number, building, rendering (Typst), keeping the bytes (encrypted: the
  agreement and the file show full ID numbers to the handling organisation) and the audited reveal;
- **render**: ``render.pdf(doc, digest)`` alone, for the same documents, rebuilt exactly as issued (the bytes
  are compared with those handed out);
- **baseline**: the same renderer printing a plain document — the same title, number and footer, one ``para``
  block holding text as long as the document's (its printed characters), lengthened or shortened to the
  nearest length that gives the same page count (a form is mostly white space: a 20-page 卷宗 holds far fewer
  characters than 20 pages of running text).

Typst keeps what it laid out in a process-wide cache and evicts whatever ten compilations did not use, so the
passes run one after another (all issues, then all renders, then the baselines) and a document is never
compiled again within ten compilations of itself: what every document of a kind shares (the template, the
fixed paragraphs, the glyphs) stays warm, as in a worker that prints all day; the document's own content does
not. The first document of each kind is printed once before the timing starts (the fonts are loaded then) and
its time is reported apart.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import typst

from bench.common import BENCH_PASSWORD, bench_app, machine, percentile, pg_version, write_results
from bench.generate import person_name, ric_number, setup_database

COLUMNS = [
    "document",
    "measure",
    "docs",
    "pages",
    "pages_range",
    "chars",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "pages_per_s",
    "target",
]
TARGET_P95_MS = 300.0
REGION = "130602"  # 保定市竞秀区: the bench organisation's county
ID_REGION = "110105"  # ID numbers with a prefix that existed at every birth date (see tests/factories.py)
FIRST_DAY = date(2025, 1, 6)

OCCUPATIONS = ("教师", "个体经营", "退休", "工人", "农民", "职员", "司机", "医生", "自由职业", "会计")
MEDIATORS = ("王建华", "李秀英", "赵德明")
PLACES = ("本委员会调解室", "先锋街道综治中心调解室", "纠纷现场", "申请人家中", "社区党群服务中心")
STREETS = ("东风中路", "朝阳北大街", "裕华西路", "七一东路", "长城南大街", "乐凯北大街", "五四中路", "复兴中路")
CATEGORIES = (
    "neighbour",
    "marriage_family",
    "housing_homestead",
    "contract",
    "damages",
    "labour",
    "property_management",
    "traffic",
    "consumer",
    "other",
)
# The pieces a dispute's story is told with; {a} the applicant, {b} the respondent, {n} a sum, {d} a date.
FACTS = (
    "{d}，{b}家卫生间防水层老化，导致楼下{a}家厨房顶棚及墙面大面积渗水、霉变",
    "{a}多次上门协商，{b}以房屋系出租、应由租户负责为由拒绝维修",
    "{a}委托装修公司估价，维修墙面、更换橱柜共需{n}元",
    "双方因赔偿数额分歧较大，多次发生口角，社区网格员上报后转入人民调解",
    "{a}称{b}在公共楼道堆放杂物，影响通行并存在消防隐患，要求其清理",
    "{b}于{d}前后在院内搭建简易棚，占用双方共有通道约二平方米",
    "{a}与{b}于{d}签订装修合同，约定工期六十日，至今逾期四十余日仍未完工",
    "{a}已支付工程款{n}元，要求{b}退还未完工部分的款项并赔偿租房损失",
    "{b}承认工期延误，但认为系{a}中途变更设计方案所致，只同意减免部分费用",
    "{d}，{b}驾驶电动自行车在小区路口与步行的{a}相撞，{a}左腿骨折住院治疗二十一日",
    "{a}主张医疗费、误工费、护理费、营养费共计{n}元，{b}对误工费的计算标准有异议",
    "{a}在{b}经营的餐馆工作八个月，离职时{b}尚欠三个月工资共{n}元未支付",
    "{b}称{a}未按约定提前三十日告知离职，给经营造成损失，应从工资中扣除",
    "双方系相邻宅基地使用人，因{b}翻建房屋时后墙越过原界址约三十厘米发生争执",
    "{a}持有的宅基地使用证所附四至图与现场情况基本一致，{b}对此无异议",
    "{a}在{b}处购买预付卡，卡内余额{n}元，{b}停业后拒绝退款",
    "{a}认为物业公司{b}未按合同履行保洁、绿化义务，拒绝缴纳{d}以来的物业费",
    "{b}主张已按合同提供服务，要求{a}补缴物业费及违约金共{n}元",
    "{a}饲养的犬只于{d}在小区内将{b}的孩子咬伤，双方就疫苗及治疗费用发生争议",
    "经查，{a}的诉求有相应的票据和照片为证，{b}对基本事实予以认可",
)
TERMS = (
    "{b}于{d}前一次性向{a}支付赔偿款{n}元，以银行转账方式支付至{a}指定账户",
    "{b}于{d}前负责修复卫生间防水层，修复后由{a}确认不再渗水",
    "{b}于{d}前清理楼道内堆放的全部杂物，此后不得在公共区域堆放物品",
    "{b}于{d}前拆除占用共有通道的简易棚，恢复通道原状，费用由{b}承担",
    "{a}同意减免{b}应付款项中的{n}元，其余款项按本协议约定的期限支付",
    "{b}于{d}前完成剩余装修工程，逾期每日按合同总价的千分之一向{a}支付违约金",
    "{b}分三期支付欠付工资：{d}前支付{n}元，其余两期每月末各支付一期",
    "{a}于收到全部款项之日起三日内向{b}出具收条，双方就本纠纷再无其他争议",
    "{b}向{a}当面赔礼道歉，双方今后和睦相处，互相尊重",
    "双方按本协议确定的界址重新砌筑界墙，费用各承担一半，于{d}前完工",
    "{b}承担{a}的医疗费、护理费、营养费及交通费共计{n}元，其余费用由{a}自行承担",
    "本协议履行完毕后，双方就本次纠纷再无其他争议，任何一方不得再以同一事实主张权利",
)
SESSION_SAYS = (
    "人民调解员向双方当事人告知了人民调解的性质、原则和效力，以及当事人在调解活动中享有的权利和承担的义务，"
    "双方表示已经知悉，同意接受调解",
    "申请人{a}陈述：{fact}。{a}要求{b}承担全部责任，并表示如{b}不同意，将向人民法院起诉",
    "被申请人{b}陈述：对申请人所述的基本事实没有异议，但认为申请人提出的{n}元数额过高，其中部分费用没有票据",
    "人民调解员询问双方是否有证据提交，{a}提交了维修报价单、现场照片十二张及医疗费票据，{b}表示需要时间核对",
    "人民调解员结合双方提交的材料，向双方讲解了《中华人民共和国民法典》关于相邻关系和侵权责任的相关规定，"
    "指出双方均应本着互谅互让的原则解决纠纷",
    "人民调解员分别与双方进行了单独谈话，了解各自的真实想法和可以接受的底线，{b}表示愿意在合理范围内承担责任",
    "{a}表示考虑到多年邻里关系，可以适当让步，但要求{b}先行修复漏水点，防止损失继续扩大",
    "{b}提出希望分期支付，人民调解员就分期的期限和每期数额与双方反复沟通，{a}表示可以考虑",
    "双方就赔偿数额仍有{n}元的差距，人民调解员建议双方回去再作考虑，约定下次调解的时间",
    "社区网格员到场介绍了纠纷发生以来的情况，并表示社区愿意协助监督协议的履行",
    "人民调解员到现场查看，{fact}，现场情况与申请人的陈述基本一致，已拍照留存",
    "经过耐心调解，双方在赔偿数额、支付方式和履行期限上的意见逐步接近，同意继续协商",
)
FOLLOW_UP_SAYS = (
    "回访人电话联系了申请人{a}，{a}表示{b}已按协议约定于{d}支付了第一期款项",
    "回访人到{a}家中查看，漏水点已经修复，墙面已重新粉刷，{a}表示满意",
    "被申请人{b}表示将按协议继续履行，双方关系已经缓和，未再发生争执",
    "回访人提醒双方如对协议履行有异议，可以再次申请调解或者依法向人民法院起诉",
    "社区网格员反映双方近期相处融洽，楼道杂物已全部清理，通道畅通",
)


class Story:
    """The facts of one generated dispute, told in varied but realistic Chinese, deterministic for its seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.a, self.b = self.name(), self.name()
        while self.b == self.a:
            self.b = self.name()

    def name(self) -> str:
        return person_name(self.rng)

    def fill(self, piece: str, **extra) -> str:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(-400, 200))
        return piece.format(
            a=self.a,
            b=self.b,
            n=f"{self.rng.randrange(8, 900) * 100:,}",
            d=f"{day.year}年{day.month}月{day.day}日",
            **extra,
        )

    def sentences(self, pieces: tuple[str, ...], count: int, **extra) -> list[str]:
        return [self.fill(piece, **extra) for piece in self.rng.sample(pieces, min(count, len(pieces)))]

    def summary(self, most: int = 9) -> str:
        return "；".join(self.sentences(FACTS, self.rng.randint(3, most))) + "。"

    def terms(self) -> str:
        clauses = self.sentences(TERMS, self.rng.randint(2, 8))
        return "\n".join(f"{'一二三四五六七八九十'[i]}、{clause}。" for i, clause in enumerate(clauses))

    def session(self, length: int) -> str:
        """A session record of about ``length`` characters (paragraphs of what each side said)."""
        paragraphs: list[str] = []
        says = self.rng.sample(SESSION_SAYS, len(SESSION_SAYS))  # each said once before any is said again
        while sum(map(len, paragraphs)) < length:
            fact = self.fill(self.rng.choice(FACTS))
            paragraphs.append(self.fill(says[len(paragraphs) % len(says)], fact=fact) + "。")
        return "\n".join(paragraphs)

    def session_particulars(self) -> dict:
        """Where the session was held, who attended and who kept the record."""
        rng = self.rng
        others = rng.sample(("社区网格员", "村委会委员", "双方亲属"), rng.randint(0, 2))
        return {
            "place": rng.choice(PLACES),
            "recorder": rng.choice(MEDIATORS),
            "attendees": "、".join([self.a, self.b, *others]),
        }

    def follow_up(self) -> str:
        return "。".join(self.sentences(FOLLOW_UP_SAYS, self.rng.randint(2, 4))) + "。"

    def party(self, role: str, name: str) -> dict:
        rng = self.rng
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
        party = {
            "role": role,
            "kind": "person",
            "name": name,
            "region_code": REGION,
            "id_number": ric_number(ID_REGION, born, rng.randrange(1000)),
            "phone": f"139{rng.randrange(10**8):08d}",
            "gender": rng.choice(("male", "female")),
            "occupation": rng.choice(OCCUPATIONS),
            "address": f"河北省保定市竞秀区{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋"
            f"{rng.randint(1, 6)}单元{rng.randint(101, 1802)}室",
        }
        if rng.random() < 0.8:
            party["ethnicity"] = "汉族"
        return party


def prepare(tag: str):
    """The handling organisation (with its 文书代字), three mediators and a mediator's account; returns
    (organisation id, mediator ids, the account's actor)."""
    from mediation_hub.auth.service import create_user
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.extensions import db
    from mediation_hub.registry.service import create_mediator, create_organization

    org = create_organization(
        SYSTEM,
        {
            "name": f"竞秀区文书测试人民调解委员会{tag}",
            "region_code": REGION,
            "kind": "people_mediation_committee",
            "document_code": "保竞",
        },
    )
    mediators = [
        create_mediator(
            SYSTEM,
            {
                "name": name,
                "organization_id": org.id,
                "id_number": ric_number(ID_REGION, date(1972, 3, 1 + i), 100 + i),
            },
        )
        for i, name in enumerate(MEDIATORS)
    ]
    user = create_user(
        SYSTEM,
        username=f"bench-documents-{tag}",
        password=BENCH_PASSWORD,
        role="mediator",
        organization_id=org.id,
        mediator_id=mediators[0].id,
    )
    db.session.commit()
    return org.id, [m.id for m in mediators], user.to_actor()


def register(
    story: Story, organization_id: int, mediator_ids: list[int], received_on: date, *, most_facts: int = 9
) -> int:
    """Register the story's dispute (two or three parties with their particulars) and accept it."""
    from mediation_hub.cases import service as cases
    from mediation_hub.core.actor import SYSTEM

    rng = story.rng
    parties = [story.party("applicant", story.a), story.party("respondent", story.b)]
    if rng.random() < 0.2:
        parties.append(story.party("respondent", story.name()))
    case, _ = cases.register_case(
        SYSTEM,
        {
            "organization_id": organization_id,
            "category": rng.choice(CATEGORIES),
            "source": "party_application",
            "summary": story.summary(most_facts),
            "received_on": received_on,
            "occurred_region_code": REGION,
            "amount_yuan": f"{rng.randrange(5, 500) * 100}.00",
            "major": False,
            "mediator_ids": rng.sample(mediator_ids, rng.randint(1, 2)),
            "parties": parties,
        },
    )
    cases.accept_case(SYSTEM, case.id, accepted_on=received_on)
    return case.id


def agreement_case(n: int, organization_id: int, mediator_ids: list[int]) -> int:
    """A case concluded with a written agreement after one session: its own parties, story and terms."""
    from mediation_hub.cases import service as cases
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.extensions import db

    story = Story(random.Random(f"agreement:{n}"))
    received = FIRST_DAY + timedelta(days=n % 300)
    case_id = register(story, organization_id, mediator_ids, received)
    cases.record_session(
        SYSTEM, case_id, held_on=received + timedelta(days=1), summary=story.session(300), **story.session_particulars()
    )
    cases.conclude_case(
        SYSTEM,
        case_id,
        outcome="agreement",
        concluded_on=received + timedelta(days=3),
        terms=story.terms(),
        agreement_amount_yuan=f"{story.rng.randrange(5, 900) * 100}.00",
    )
    db.session.commit()
    return case_id


def file_case(n: int, organization_id: int, mediator_ids: list[int]) -> int:
    """A case whose 卷宗 runs to about 20 pages: four or five sessions of long records, an agreement, two or
    three follow-ups."""
    from mediation_hub.cases import service as cases
    from mediation_hub.cases.models import Case
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.extensions import db

    story = Story(random.Random(f"file:{n}"))
    rng = story.rng
    received = FIRST_DAY + timedelta(days=n % 250)
    case_id = register(story, organization_id, mediator_ids, received, most_facts=6)
    day = received
    # a third party adds a signature row to every record: one session fewer keeps the file near 20 pages
    sessions = 4 if len(db.session.get(Case, case_id).parties) > 2 else rng.randint(4, 5)
    for _ in range(sessions):
        day += timedelta(days=rng.randint(2, 5))
        length = rng.randint(2000, 2600) // sessions
        cases.record_session(SYSTEM, case_id, held_on=day, summary=story.session(length), **story.session_particulars())
    day += timedelta(days=1)
    cases.conclude_case(
        SYSTEM,
        case_id,
        outcome="agreement",
        concluded_on=day,
        terms=story.terms(),
        agreement_amount_yuan=f"{rng.randrange(5, 900) * 100}.00",
    )
    for _ in range(rng.randint(2, 3) if sessions == 4 else 2):
        day += timedelta(days=rng.randint(7, 20))
        cases.record_follow_up(
            SYSTEM,
            case_id,
            visited_on=day,
            summary=story.follow_up(),
            performed=rng.random() < 0.9,
            method=rng.choice(("visit", "phone")),
            visitor=rng.choice(MEDIATORS),
        )
    db.session.commit()
    return case_id


# -- measuring ---------------------------------------------------------------------------------------------


class Issued:
    """What one issue handed out, and what is needed to print the same document again."""

    def __init__(self, case_id: int, ms: float, issued):
        from mediation_hub.documents import render

        self.case_id, self.ms = case_id, ms
        self.number, self.digest, self.sha256 = issued.number, issued.digest, issued.sha256
        self.pages = render.page_count(issued.content)


def issue_one(actor, case_id: int, kind: str) -> Issued:
    """One document issued and committed, as a request would; timed from the call to the commit."""
    from mediation_hub.documents import service as documents
    from mediation_hub.extensions import db

    started = time.perf_counter()
    issued = documents.issue(actor, "case", case_id, kind)
    db.session.commit()
    return Issued(case_id, (time.perf_counter() - started) * 1000, issued)


def rebuild(actor, kind: str, issued: Issued):
    """The document exactly as it was issued (the same facts, number and day)."""
    from mediation_hub.cases.service.scope import get_case
    from mediation_hub.documents import service as documents
    from mediation_hub.documents.kinds import CASE_KINDS

    record = get_case(actor, issued.case_id, detail=True)
    return documents.build(actor, "case", CASE_KINDS[kind], record, full=True, number=issued.number)


def printed_chars(value) -> int:
    """The characters a document prints: every text of its blocks (not the block types and references)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(printed_chars(v) for k, v in value.items() if k not in ("t", "ref", "widths"))
    if isinstance(value, list):
        return sum(printed_chars(v) for v in value)
    return 0


def render_ms(doc, digest: str) -> tuple[float, bytes]:
    from mediation_hub.documents import render

    started = time.perf_counter()
    data = render.pdf(doc, digest)
    return (time.perf_counter() - started) * 1000, data


class PlainText:
    """Plain documents of a given page count: the title, number and footer of the real one, one ``para`` of
    running text (characters of the hub's own legal texts, in a random order per document)."""

    def __init__(self):
        from mediation_hub.documents import mediation

        text = "".join(
            [
                mediation.NOTICE_EFFECT,
                mediation.AGREEMENT_EFFECT,
                mediation.CONFIRMATION_DECLARATIONS,
                *FACTS,
                *SESSION_SAYS,
            ]
        )
        self.alphabet = [c for c in dict.fromkeys(text) if "\u4e00" <= c <= "\u9fff"]
        self.pages_of: dict[tuple[str, int], int] = {}

    def text(self, rng: random.Random, length: int) -> str:
        """``length`` characters: random ones of the alphabet, a comma, a full stop or a line break at fixed
        places (a paragraph of about seven lines), so that every text of one length breaks into the same lines
        and pages."""
        return "".join(
            "\n" if i % 240 == 239 else "。" if i % 60 == 59 else "，" if i % 20 == 19 else rng.choice(self.alphabet)
            for i in range(length)
        )

    def doc(self, like, text: str):
        from mediation_hub.documents.blocks import Doc, para

        return Doc(like.title, number=like.number, footer=like.footer, author=like.author).add(para(text))

    def pages(self, like, length: int, digest: str) -> int:
        from mediation_hub.documents import render

        key = (like.title, length)
        if key not in self.pages_of:
            data = render.pdf(self.doc(like, self.text(random.Random(length), length)), digest)
            self.pages_of[key] = render.page_count(data)
        return self.pages_of[key]

    def length_for(self, like, chars: int, pages: int, digest: str) -> int:
        """``chars`` if plain text that long fills ``pages`` pages; else the nearest length that does."""
        have = self.pages(like, chars, digest)
        if have == pages:
            return chars
        if have < pages:  # lengthen: the shortest text that reaches the page count
            low, high = chars, chars * 2
            while self.pages(like, high, digest) < pages:
                low, high = high, high * 2
            while high - low > 20:
                middle = (low + high) // 2
                low, high = (middle, high) if self.pages(like, middle, digest) < pages else (low, middle)
            return high
        low, high = chars // 2, chars  # shorten: the longest text that stays within the page count
        while self.pages(like, low, digest) > pages:
            low, high = low // 2, low
        while high - low > 20:
            middle = (low + high) // 2
            low, high = (middle, high) if self.pages(like, middle, digest) <= pages else (low, middle)
        return low


def spacers(plain: PlainText, count: int) -> None:
    """``count`` small plain pages printed untimed, so that Typst's cache (it evicts what the last ten
    compilations did not use) holds nothing of the documents printed before."""
    from mediation_hub.documents import render
    from mediation_hub.documents.blocks import Doc, para

    for n in range(count):
        render.pdf(Doc("间隔页").add(para(plain.text(random.Random(f"spacer:{n}"), 200))), "0" * 64)


def stats(times: list[float], pages: list[int], chars: list[int]) -> dict:
    total_s = sum(times) / 1000
    return {
        "docs": len(times),
        "pages": round(sum(pages) / len(pages), 1),
        "pages_range": f"{min(pages)}–{max(pages)}" if min(pages) != max(pages) else str(pages[0]),
        "chars": round(sum(chars) / len(chars)),
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "pages_per_s": sum(pages) / total_s,
    }


def issue_all(actor, kind: str, case_ids: list[int], log) -> list[Issued]:
    """Issue the document ``kind`` of every case, one after another, each timed with its commit."""
    issued = []
    for i, case_id in enumerate(case_ids, start=1):
        issued.append(issue_one(actor, case_id, kind))
        if i % 50 == 0 or i == len(case_ids):
            log(f"  {kind}: {i}/{len(case_ids)} issued")
    return issued


def render_again(actor, kind: str, issued: list[Issued]) -> tuple[list[float], list, int]:
    """Each issued document rebuilt (untimed) and printed again (timed); how many came out byte for byte as
    issued."""
    times, docs, same = [], [], 0
    for one in issued:
        doc = rebuild(actor, kind, one)
        ms, data = render_ms(doc, one.digest)
        same += hashlib.sha256(data).hexdigest() == one.sha256
        times.append(ms)
        docs.append(doc)
    return times, docs, same


def baseline(kind: str, issued: list[Issued], docs: list, plain: PlainText) -> tuple[list[float], list, list]:
    """Each document's plain twin: lengths found first (untimed), then every twin printed once (timed) with
    text of its own, so none is answered from the calibration's cache."""
    from mediation_hub.documents import render

    lengths = [
        plain.length_for(doc, printed_chars(doc.content()["blocks"]), one.pages, one.digest)
        for one, doc in zip(issued, docs, strict=True)
    ]
    times, pages = [], []
    for n, (one, doc, length) in enumerate(zip(issued, docs, lengths, strict=True)):
        twin = plain.doc(doc, plain.text(random.Random(f"{kind}:twin:{n}"), length))
        ms, data = render_ms(twin, one.digest)
        times.append(ms)
        pages.append(render.page_count(data))
    return times, pages, lengths


def make_data(agreements: int, files: int, log) -> tuple[object, list[int], list[int]]:
    """The organisation, its mediator's actor, and the cases: one more of each kind than measured (the first
    is printed before the timing starts: the fonts load and the template compiles then)."""
    started = time.perf_counter()
    organization_id, mediator_ids, actor = prepare(f"{int(time.time())}")
    agreement_ids = [agreement_case(n, organization_id, mediator_ids) for n in range(agreements + 1)]
    file_ids = [file_case(n, organization_id, mediator_ids) for n in range(files + 1)]
    log(f"data: {agreements + 1} agreement cases, {files + 1} file cases in {time.perf_counter() - started:.1f} s")
    return actor, agreement_ids, file_ids


def rows_for(kind: str, label: str, issued: list[Issued], rendered: tuple, twins: tuple) -> list[dict]:
    """The table's three rows for a kind: issue, render only, the plain baseline."""
    render_times, docs, _ = rendered
    twin_times, twin_pages, lengths = twins
    chars = [printed_chars(doc.content()["blocks"]) for doc in docs]
    pages = [one.pages for one in issued]
    issue_row = {
        "document": f"{kind} ({label})",
        "measure": "issue (full path)",
        **stats([one.ms for one in issued], pages, chars),
    }
    if kind == "agreement":
        met = issue_row["p95_ms"] <= TARGET_P95_MS
        issue_row["target"] = f"p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if met else 'not met'}"
    return [
        issue_row,
        {"document": f"{kind} ({label})", "measure": "render only", **stats(render_times, pages, chars)},
        {
            "document": f"baseline: plain text like the {kind}",
            "measure": "render only",
            **stats(twin_times, twin_pages, lengths),
        },
    ]


def run(url: str, agreements: int, files: int, log=print) -> tuple[list[dict], list[str], dict]:
    """Build the data, then time the passes one after another (see the module docstring); returns the
    table's rows, the notes and the machine facts."""
    from mediation_hub.extensions import db

    load_at_start = os.getloadavg()
    app = bench_app(url)
    setup_database(app)
    kinds = (("agreement", "人民调解协议书"), ("file", "卷宗"))
    with app.app_context():
        started = time.perf_counter()
        actor, agreement_ids, file_ids = make_data(agreements, files, log)
        ids = {"agreement": agreement_ids, "file": file_ids}
        first = {kind: issue_one(actor, ids[kind].pop(0), kind).ms for kind, _ in kinds}
        issued = {kind: issue_all(actor, kind, ids[kind], log) for kind, _ in kinds}
        log("file pages: " + ", ".join(str(one.pages) for one in issued["file"]))
        plain = PlainText()
        spacers(plain, 10)  # every document is now ten compilations or more behind its issue: its layout evicted
        rendered = {kind: render_again(actor, kind, issued[kind]) for kind, _ in kinds}
        twins = {kind: baseline(kind, issued[kind], rendered[kind][1], plain) for kind, _ in kinds}
        rows, notes = [], []
        for kind, label in kinds:
            rows += rows_for(kind, label, issued[kind], rendered[kind], twins[kind])
            notes.append(
                f"{kind}: first document of the process {first[kind]:,.0f} ms (fonts loaded, not counted); "
                f"printed again byte for byte as issued: {rendered[kind][2]}/{len(issued[kind])}"
            )
            differ = sum(a != b.pages for a, b in zip(twins[kind][1], issued[kind], strict=True))
            if differ:
                notes.append(f"{kind}: {differ} plain twins have another page count than their document")
        facts = {
            **machine(),
            "load_average_at_start": load_at_start,
            "database": url.split(":", 1)[0],
            "postgresql": pg_version(url),
            "typst": typst.__version__,
            "wall_s": round(time.perf_counter() - started, 1),
        }
        db.session.remove()
    return rows, notes, facts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder (removed after)")
    parser.add_argument("--agreements", type=int, default=None, help="agreements to issue (default 200; smoke 5)")
    parser.add_argument("--files", type=int, default=None, help="卷宗 to issue (default 50; smoke 2)")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    agreements = args.agreements or (5 if args.smoke else 200)
    files = args.files or (2 if args.smoke else 50)
    with tempfile.TemporaryDirectory(prefix="mh-bench-documents-") as work:
        url = args.database_url or f"sqlite:///{Path(work) / 'documents.db'}"
        rows, notes, facts = run(url, agreements, files)
    write_results(
        "documents" + ("-smoke" if args.smoke else ""),
        "Documents: agreements and 卷宗",
        rows,
        columns=COLUMNS,
        facts=facts,
        out_dir=args.out,
        notes=[
            "issue: documents.service.issue(actor, 'case', id, kind) + commit by a mediator of the handling "
            "organisation (number, build, render, bytes kept encrypted, audited reveal); in-process, no HTTP",
            "render only: render.pdf(doc, digest) for the same documents, rebuilt as issued",
            "baseline: the same renderer, the same title/number/footer, one para of plain text as long as "
            "the document's printed characters, or the nearest length with the same page count",
            "pages/s: pages printed over the summed time of the documents; chars: printed characters "
            "per document (the baseline's: its text's length)",
            *notes,
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
