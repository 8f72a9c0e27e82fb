"""The 16 Article 6 rows of CTF Table 4 (decision 5/CMA.3, annex II): the paragraph each reports,
its short label (article6.md §3.7) and the wording of the CTF."""

from __future__ import annotations

from enum import StrEnum


class Paragraph(StrEnum):
    """The paragraph each Article 6 row reports: of the annex to decision 2/CMA.3, except
    ``MPG_77_D_III`` (para 77(d)(iii) of the annex to decision 18/CMA.1)."""

    P7_A_I = "7(a)(i)"
    P7_B = "7(b)"
    P23_A = "23(a)"
    P23_B = "23(b)"
    P23_I = "23(i)"
    P23_C = "23(c)"
    P23_D = "23(d)"
    P23_E = "23(e)"
    P23_F = "23(f)"
    P7_A_II = "7(a)(ii)"
    P23_G = "23(g)"
    P23_H = "23(h)"
    P23_K_I = "23(k)(i)"
    P23_K_II = "23(k)(ii)"
    MPG_77_D_III = "MPG 77(d)(iii)"
    P23_L = "23(l)"


CTF_ROWS: tuple[tuple[Paragraph, str, str], ...] = (
    (
        Paragraph.P7_A_I,
        "Indicative multi-year trajectory/trajectories/budget (7(a)(i)), if applicable",
        "If applicable, an indicative multi-year emissions trajectory, trajectories or budget for "
        "its NDC implementation period (para. 7(a)(i), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P7_B,
        "Multi-year trajectory/trajectories/budget (7(b)), if applicable",
        "If applicable, multi-year emissions trajectory, trajectories or budget for its NDC "
        "implementation period that is consistent with the NDC (para. 7(b), annex to decision "
        "2/CMA.3)",
    ),
    (
        Paragraph.P23_A,
        "Annual NDC-covered emissions and removals (23(a)), or the para 10 categories",
        "Annual anthropogenic emissions by sources and removals by sinks covered by its NDC or, "
        "where applicable, from the emission or sink categories as identified by the host Party "
        "pursuant to paragraph 10 of annex to decision 2/CMA.3 (para. 23(a), annex to decision "
        "2/CMA.3) (as part of para. 77 (d)(i) of the MPGs)",
    ),
    (
        Paragraph.P23_B,
        "The same for the portion of the NDC (23(b))",
        "Annual anthropogenic emissions by sources and removals by sinks covered by its NDC or, "
        "where applicable, from the portion of its NDC in accordance with paragraph 10, annex to "
        "decision 2/CMA.3 (para. 23(b), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_I,
        "Annual level of the relevant non-GHG indicator (23(i))",
        "If applicable, annual level of the relevant non-GHG indicator that is being used by the "
        "Party to track progress towards the implementation and achievement of its NDC and was "
        "selected pursuant to paragraph 65, annex to decision 18/CMA.1 (para. 23(i), annex, "
        "decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_C,
        "Annual quantity of ITMOs first transferred (23(c))",
        "Annual quantity of ITMOs first transferred (para. 23(c), annex to decision 2/CMA.3) "
        "(para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_D,
        "Annual quantity of MOs authorized for OIMP, and the entities authorized (23(d))",
        "Annual quantity of mitigation outcomes authorized for use for other international "
        "mitigation purposes and entities authorized to use such mitigation outcomes, as "
        "appropriate (para. 23(d), annex to decision 2/CMA.3) (para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_E,
        "Annual quantity of ITMOs used towards the NDC (23(e))",
        "Annual quantity of ITMOs used towards achievement of the NDC (para. 23(e), annex to "
        "decision 2/CMA.3) (para. 77(d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_F,
        "Net annual quantity (23(f))",
        "Net annual quantity of ITMOs resulting from paras. 23(c)-(e), annex to decision 2/CMA.3 "
        "(para. 23(f), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P7_A_II,
        "Cumulative ITMOs ÷ elapsed years (7(a)(ii)), if applicable",
        "If applicable, the cumulative amount of ITMOs, divided by the number of elapsed years in "
        "the NDC implementation period (para. 7(a)(ii), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_G,
        "Total quantitative CAs used to calculate the emissions balance (23(g))",
        "Total quantitative corresponding adjustments used to calculate the emissions balance "
        "referred to in para. 23(k)(i), annex to decision 2/CMA.3, in accordance with the Party's "
        "method for applying corresponding adjustments consistent with section III.B, annex to "
        "decision 2/CMA.3 (Application of corresponding adjustments) (para. 23(g), annex to "
        "decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_H,
        "Cumulative information on 23(f) (23(h))",
        "The cumulative information in respect of the annual information in para. 23(f), annex to "
        "decision 2/CMA.3, as applicable (para. 23(h), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.P23_K_I,
        "Annual emissions balance (23(k)(i))",
        "For metrics in tonnes of CO2 eq. or non-GHG, an annual emissions balance consistent with "
        "chapter III.B (Application of corresponding adjustment), annex, decision 2/CMA.3 (para. "
        "23(k)(i), annex to decision 2/CMA.3) (as part of para. 77 (d)(ii) of the MPGs)",
    ),
    (
        Paragraph.P23_K_II,
        "Annual adjusted indicator for non-GHG (23(k)(ii))",
        "For metrics in non-GHG, for each non-GHG metric determined by participating Parties, "
        "annual adjustments resulting in an annual adjusted indicator, consistent with para. 9 of "
        "chapter III.B (Corresponding adjustments), annex to decision 2/CMA.3, and future "
        "guidance to be adopted by the CMA (para. 23(k)(ii), annex to decision 2/CMA.3)",
    ),
    (
        Paragraph.MPG_77_D_III,
        "Any other Article 6 information (MPG 77(d)(iii))",
        "Any other information consistent with decisions adopted by the CMA on reporting under "
        "Article 6 (para. 77(d)(iii) of the MPGs)",
    ),
    (
        Paragraph.P23_L,
        "The end-of-period assessment, including the final indicator with CAs applied (23(l)), "
        'Comparison, and "Achievement of NDC: yes/no"',
        "Final information for the indicator for the target year/period, including the "
        "application of the necessary corresponding adjustments consistent with chapter III, "
        "annex, decision 2/CMA.3 (Corresponding adjustments) and consistent with future decisions "
        "from the CMA (para. 23(l), annex to decision 2/CMA.3)",
    ),
)
