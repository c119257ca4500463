"""Synthetic Chinese personal names: common surnames and given-name characters, freely combined.

No name here is meant to describe a real person; doctors' names are made unique within the demo
hospital (the query layer resolves doctors by name), patients' names need not be.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The most common surnames, roughly in order of frequency (weights fall off with rank).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_MALE = list("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志文成海峰亮东晨博昊睿哲")
_FEMALE = list("芳娜敏静丽艳娟霞秀玲桂英燕红梅琳雪婷颖慧倩佳晶洁丹蕾薇月萍琴兰云莉欣怡雨璐瑶岚菲")
_EITHER = list("嘉子思晓春秋一新天永立德安宏小雅梓子佳")


def _surname_weights() -> np.ndarray:
    w = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
    return w / w.sum()


def unique_names(rng: np.random.Generator, n: int, male: np.ndarray) -> list[str]:
    """``n`` distinct names (surname + one or two characters); ``male`` picks the character set."""
    sw = _surname_weights()
    seen: set[str] = set()
    out: list[str] = []
    for i in range(n):
        chars = _MALE if male[i] else _FEMALE
        while True:
            given = rng.choice(chars)
            if rng.random() < 0.7:
                given += rng.choice(chars + _EITHER)
            name = SURNAMES[rng.choice(len(SURNAMES), p=sw)] + given
            if name not in seen:
                seen.add(name)
                out.append(name)
                break
    return out


def name_array(rng: np.random.Generator, male: np.ndarray) -> pa.Array:
    """Patient names for a boolean sex array, built in Arrow (millions of rows at scale 10)."""
    n = len(male)
    # One character table: the male set and the female set, each followed by the neutral set.
    table = pa.array(_MALE + _EITHER + _FEMALE + _EITHER)
    offset = np.where(male, 0, len(_MALE) + len(_EITHER))
    first = offset + np.where(male, rng.integers(0, len(_MALE), n), rng.integers(0, len(_FEMALE), n))
    second = offset + np.where(
        male, rng.integers(0, len(_MALE) + len(_EITHER), n), rng.integers(0, len(_FEMALE) + len(_EITHER), n)
    )
    c2 = pc.if_else(pa.array(rng.random(n) < 0.7), table.take(pa.array(second)), pa.scalar(""))
    surname = pa.array(SURNAMES).take(pa.array(rng.choice(len(SURNAMES), size=n, p=_surname_weights())))
    return pc.binary_join_element_wise(surname, table.take(pa.array(first)), c2, "")
