"""Which parts of two versions of a form mean the same, and report content read across them.

A new version of a form may renumber its sections or add, drop or rename indicators. What
still means the same is written down here, explicitly, once per pair of versions, so that
everything reading reports of several versions together (consolidation's totals and
year-on-year comparison, a draft started from last period's report) agrees on it. Nothing
is inferred from labels: an indicator or section missing from a table is not carried
across, even if its code happens to match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.forms.model import FormDefinition


@dataclass(frozen=True)
class Crosswalk:
    """From the parts of the `source` version to the parts of `target` that mean the same.

    `sections` maps a target section key to the source section key whose narrative means
    the same; `indicators` maps a target indicator code to the source code.
    """

    form_id: str
    source: str
    target: str
    sections: Mapping[str, str]
    indicators: Mapping[str, str]

    def inverse(self) -> Crosswalk:
        """The same correspondence read from `target` to `source`."""
        return Crosswalk(
            form_id=self.form_id,
            source=self.target,
            target=self.source,
            sections={s: t for t, s in self.sections.items()},
            indicators={s: t for t, s in self.indicators.items()},
        )


class NoCrosswalk(LookupError):
    """Nobody wrote down what two versions of a form have in common."""

    def __init__(self, form_id: str, source: str, target: str) -> None:
        super().__init__(f"no crosswalk from {form_id} {source} to {target}")


def _same(*codes: str) -> dict[str, str]:
    return {code: code for code in codes}


# dvcq-dinh-ky 2023.1 → 2023.2: three sections are new (3 kỷ luật, kỷ cương; 5 dân chủ ở
# cơ sở; 6 tín ngưỡng, tôn giáo), the others move down; every 2023.1 indicator keeps its
# code and meaning but co_lanh_dao_phu_trach (II.5's yes/no, replaced by the leader check).
# Section 10 of 2023.2 also covers the People's criticism (II.7), so the
# 2023.1 narrative of section 7 is part of it.
DVCQ_DINH_KY_2023_1_TO_2023_2 = Crosswalk(
    form_id="dvcq-dinh-ky",
    source="2023.1",
    target="2023.2",
    sections={
        "1": "1",
        "2": "2",
        "4": "3",
        "7": "4",
        "8": "5",
        "9": "6",
        "10": "7",
        "11": "8",
        "12": "9",
    },
    indicators=_same(
        # II.1
        "van_ban_ban_hanh",
        "hoi_nghi_quan_triet",
        "luot_nguoi_quan_triet",
        # II.2
        "mo_hinh_dvk_dang_ky",
        "mo_hinh_dvk_cong_nhan",
        "dien_hinh_dvk_khen_thuong",
        # II.3
        "lop_tap_huan",
        "luot_nguoi_tap_huan",
        "cuoc_kiem_tra_giam_sat",
        "sai_pham_phat_hien",
        "sai_pham_xu_ly",
        # II.4
        "ho_so_tthc_tiep_nhan",
        "ho_so_tthc_dung_han",
        "ho_so_tthc_qua_han",
        "ho_so_truc_tuyen",
        # II.5 (2023.1's self-declared co_lanh_dao_phu_trach has no counterpart: 2023.2
        # checks the leader against the registry instead, `LeaderCheck`)
        "can_bo_dan_van_boi_duong",
        # II.6
        "quy_che_phoi_hop",
        "cong_trinh_cung_lam",
        "nhan_dan_dong_gop",
        # II.7
        "cuoc_doi_thoai",
        "buoi_tiep_cong_dan",
        "luot_cong_dan_duoc_tiep",
        "don_thu_tiep_nhan",
        "don_thu_giai_quyet",
        "kien_nghi_cu_tri_tiep_nhan",
        "kien_nghi_cu_tri_giai_quyet",
        # II.8
        "tap_the_khen_thuong",
        "ca_nhan_khen_thuong",
        "ho_thoat_ngheo",
        # IV.2
        "chuyen_de_phat_song",
    ),
)

CROSSWALKS: tuple[Crosswalk, ...] = (DVCQ_DINH_KY_2023_1_TO_2023_2,)


def identity(form: FormDefinition) -> Crosswalk:
    """A version read as itself."""
    return Crosswalk(
        form_id=form.form_id,
        source=form.version,
        target=form.version,
        sections={s.key: s.key for s in form.sections},
        indicators={i.code: i.code for i in form.indicators},
    )


def crosswalk(source: FormDefinition, target: FormDefinition) -> Crosswalk:
    """What `source` and `target` have in common; raises NoCrosswalk when nobody said."""
    if source.form_id != target.form_id:
        raise NoCrosswalk(f"{source.form_id}/{target.form_id}", source.version, target.version)
    if source.version == target.version:
        return identity(target)
    for known in CROSSWALKS:
        if known.form_id != target.form_id:
            continue
        if (known.source, known.target) == (source.version, target.version):
            return known
        if (known.target, known.source) == (source.version, target.version):
            return known.inverse()
    raise NoCrosswalk(target.form_id, source.version, target.version)


def translate_content(
    content: Mapping[str, Any], source: FormDefinition, target: FormDefinition
) -> dict[str, Any]:
    """A periodic report's content, written on `source`, in the shape of `target`.

    Sections are keyed by `target`'s keys; a target section gets the narrative of the
    source section that means the same, and each of its indicators the value of the
    source indicator that means the same. Whatever has no counterpart, or was not in the
    report, is left out (not asked is not "not reported"). Whole-report text fields with
    the same code are copied.
    """
    walk = crosswalk(source, target)
    raw_sections = content.get("sections")
    old_sections: Mapping[str, Any] = raw_sections if isinstance(raw_sections, Mapping) else {}
    old_values: dict[str, Any] = {}
    for section in source.sections:
        part = old_sections.get(section.key)
        indicators = part.get("indicators") if isinstance(part, Mapping) else None
        if isinstance(indicators, Mapping):
            old_values.update(indicators)
    sections: dict[str, Any] = {}
    for section in target.sections:
        old_key = walk.sections.get(section.key)
        old_part = old_sections.get(old_key) if old_key is not None else None
        values = {
            ind.code: old_values[walk.indicators[ind.code]]
            for ind in section.indicators
            if walk.indicators.get(ind.code) in old_values
        }
        if old_part is None and not values:
            continue  # the report had nothing of it (e.g. a section that did not apply)
        narrative = old_part.get("narrative") if isinstance(old_part, Mapping) else None
        sections[section.key] = {"narrative": narrative, "indicators": values}
    text_codes = {f.code for f in source.text_fields} & {f.code for f in target.text_fields}
    return {
        "sections": sections,
        **{code: content.get(code) for code in sorted(text_codes) if code in content},
    }
