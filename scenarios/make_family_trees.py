"""Build family-trees.csv: Hinton's two family trees as 104 (person 1, relation) cases.

Source: Rumelhart, Hinton & Williams, "Learning representations by back-propagating
errors", Nature 323:533-536 (1986): its drawing of the two isomorphic trees, English
and Italian (with Hinton's spellings "Pierro", "Tomaso" and "Alfonso"), and its text
and figure captions on pp. 534-535 (the 12 relations, the 104 cases, 100 trained and
4 held out). The facts below are only the trees themselves: who is a man or a woman,
who married whom, and who are whose children. Every one of the 12 relations is
derived from those, so nothing is typed in twice and a typo cannot hide in 112
hand-written facts. Cross-checked: the 112 facts made here are exactly those listed
by E. P. Stabler's 1988 encoding of Hinton's trees (repository tjd/cel, file
thnet/thnet/THNET/REPS/stabler3.lisp).

A case (A, R) asks "who is A's R?". Its target has every correct person 2 on: Colin's
aunts are Margaret and Jennifer, so the case "Colin.aunt" has both of them on.

The paper held out 4 cases chosen at random but does not say which. This script draws 4
with a fixed seed (HELD_OUT_SEED) from the 96 cases that have one answer, and the
scenarios list them in ``test = [...]``: with HELD_OUT_SEED = 1986 they are
Jennifer.father, Marco.mother, Margaret.husband and Maria.daughter.

Run it from anywhere: ``python scenarios/make_family_trees.py`` rewrites
family-trees.csv beside it (and prints the held-out cases). tests/test_family_trees.py
checks that the committed CSV is exactly what build_csv() makes.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

# The two trees, person i of one playing the same part as person i of the other.
# (name, sex) in the order of the paper's figure: the oldest generation first.
ENGLISH = [("Christopher", "M"), ("Penelope", "F"), ("Andrew", "M"), ("Christine", "F"),
           ("Margaret", "F"), ("Arthur", "M"), ("Victoria", "F"), ("James", "M"),
           ("Jennifer", "F"), ("Charles", "M"), ("Colin", "M"), ("Charlotte", "F")]
ITALIAN = [("Roberto", "M"), ("Maria", "F"), ("Pierro", "M"), ("Francesca", "F"),
           ("Gina", "F"), ("Emilio", "M"), ("Lucia", "F"), ("Marco", "M"),
           ("Angela", "F"), ("Tomaso", "M"), ("Alfonso", "M"), ("Sophia", "F")]

# Marriages (husband, wife) and children (father, mother) -> [children].
# Margaret and Charles (Gina and Tomaso) married in: their parents are not in the tree.
MARRIAGES = [("Christopher", "Penelope"), ("Andrew", "Christine"), ("Arthur", "Margaret"),
             ("James", "Victoria"), ("Charles", "Jennifer"),
             ("Roberto", "Maria"), ("Pierro", "Francesca"), ("Emilio", "Gina"),
             ("Marco", "Lucia"), ("Tomaso", "Angela")]
CHILDREN = {("Christopher", "Penelope"): ["Arthur", "Victoria"],
            ("Andrew", "Christine"): ["James", "Jennifer"],
            ("James", "Victoria"): ["Colin", "Charlotte"],
            ("Roberto", "Maria"): ["Emilio", "Lucia"],
            ("Pierro", "Francesca"): ["Marco", "Angela"],
            ("Marco", "Lucia"): ["Alfonso", "Sophia"]}

PEOPLE = [name for name, _ in ENGLISH + ITALIAN]
SEX = dict(ENGLISH + ITALIAN)
# The paper's order of the 12 relations.
RELATIONS = ["father", "mother", "husband", "wife", "son", "daughter",
             "uncle", "aunt", "brother", "sister", "nephew", "niece"]

HELD_OUT_SEED = 1986
HELD_OUT_COUNT = 4

# What the paper (and every later count of the same trees) says the data holds.
PUBLISHED = {
    "facts": 112,   # (A, R, B) triples, 56 per tree
    "cases": 104,   # (A, R) queries: "the 104 possible triples"
    "two_answers": 8,  # Colin, Charlotte, Alfonso, Sophia: uncle and aunt
    "per_relation": {"father": 12, "mother": 12, "husband": 10, "wife": 10, "son": 12,
                     "daughter": 12, "uncle": 8, "aunt": 8, "brother": 6, "sister": 6,
                     "nephew": 8, "niece": 8},
}


def facts() -> list[tuple[str, str, str]]:
    """Every (A, R, B) with B being A's R, derived from the marriages and the children."""
    spouse, parents, children = {}, {}, {p: [] for p in PEOPLE}
    for husband, wife in MARRIAGES:
        spouse[husband], spouse[wife] = wife, husband
    for couple, kids in CHILDREN.items():
        for kid in kids:
            parents[kid] = list(couple)
            children[couple[0]].append(kid)
            children[couple[1]].append(kid)

    def siblings(a):
        return [b for b in PEOPLE if b != a and a in parents and parents.get(b) == parents[a]]

    def uncles_and_aunts(a):
        # a parent's brothers and sisters, and their husbands and wives
        out = []
        for parent in parents.get(a, []):
            for sib in siblings(parent):
                out += [sib] + ([spouse[sib]] if sib in spouse else [])
        return out

    related = {  # relation -> (A -> the people who may be it, before the sex is checked)
        ("father", "mother"): lambda a: parents.get(a, []),
        ("husband", "wife"): lambda a: [spouse[a]] if a in spouse else [],
        ("son", "daughter"): lambda a: children[a],
        ("uncle", "aunt"): uncles_and_aunts,
        ("brother", "sister"): siblings,
        ("nephew", "niece"): lambda a: [b for b in PEOPLE if a in uncles_and_aunts(b)],
    }
    out = []
    for a in PEOPLE:
        for (male, female), who in related.items():
            for b in who(a):
                out.append((a, male if SEX[b] == "M" else female, b))
    return out


def cases() -> list[tuple[str, str, list[str]]]:
    """(A, R, [every B]) for each question that has an answer: people in the paper's
    order, then relations in the paper's order."""
    answers: dict[tuple[str, str], list[str]] = {}
    for a, r, b in facts():
        answers.setdefault((a, r), []).append(b)
    return [(a, r, sorted(answers[a, r], key=PEOPLE.index))
            for a in PEOPLE for r in RELATIONS if (a, r) in answers]


def check_published_counts() -> None:
    all_facts, all_cases = facts(), cases()
    assert len(set(all_facts)) == len(all_facts) == PUBLISHED["facts"], len(all_facts)
    assert len(all_cases) == PUBLISHED["cases"], len(all_cases)
    two = [(a, r) for a, r, bs in all_cases if len(bs) == 2]
    assert len(two) == PUBLISHED["two_answers"], two
    assert all(len(bs) <= 2 for _, _, bs in all_cases)
    assert {r for _, r in two} == {"uncle", "aunt"}
    assert {a for a, _ in two} == {"Colin", "Charlotte", "Alfonso", "Sophia"}
    per_relation = {r: sum(1 for _, rr, _ in all_facts if rr == r) for r in RELATIONS}
    assert per_relation == PUBLISHED["per_relation"], per_relation
    # the two trees are the same tree: person i plays the part of person i + 12
    english = {(PEOPLE.index(a), r, PEOPLE.index(b)) for a, r, b in all_facts if PEOPLE.index(a) < 12}
    italian = {(PEOPLE.index(a) - 12, r, PEOPLE.index(b) - 12) for a, r, b in all_facts
               if PEOPLE.index(a) >= 12}
    assert english == italian and len(english) == 56
    # spot checks against the paper's own example and the trees as drawn
    answers = {(a, r): bs for a, r, bs in all_cases}
    assert answers["Colin", "aunt"] == ["Margaret", "Jennifer"]
    assert answers["Colin", "uncle"] == ["Arthur", "Charles"]
    assert answers["Alfonso", "uncle"] == ["Emilio", "Tomaso"]
    assert answers["Charlotte", "mother"] == ["Victoria"]
    assert answers["Margaret", "nephew"] == ["Colin"]


def name(a: str, r: str) -> str:
    return f"{a}.{r}"


def held_out() -> list[str]:
    """The 4 held-out cases: drawn at random, with HELD_OUT_SEED, among the one-answer cases."""
    one_answer = [name(a, r) for a, r, bs in cases() if len(bs) == 1]
    return sorted(random.Random(HELD_OUT_SEED).sample(one_answer, HELD_OUT_COUNT))


def header() -> list[str]:
    return (["pattern"] + [f"person1.{p}" for p in PEOPLE] + [f"relation.{r}" for r in RELATIONS]
            + [f"person2.{p}" for p in PEOPLE])


def rows() -> list[list]:
    out = []
    for a, r, bs in cases():
        person1 = [int(p == a) for p in PEOPLE]
        relation = [int(q == r) for q in RELATIONS]
        person2 = [int(p in bs) for p in PEOPLE]
        out.append([name(a, r)] + person1 + relation + person2)
    return out


def build_csv() -> str:
    """The text of family-trees.csv."""
    check_published_counts()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header())
    writer.writerows(rows())
    return buffer.getvalue()


def main() -> None:
    path = Path(__file__).resolve().parent / "family-trees.csv"
    path.write_text(build_csv(), encoding="utf-8")
    print(f"wrote {path}: {len(cases())} cases")
    print(f"held out (seed {HELD_OUT_SEED}): test = {held_out()}")


if __name__ == "__main__":
    main()
