"""The quarterly safety report of the sample corpus (text written for Tier-0's evaluation set)."""

from __future__ import annotations

from tier0.common.fleet import SITES
from tier0.rag.corpus.model import Figure, Question, SampleDocument, SamplePage, Table

_NEAR_MISSES = (3, 11, 6, 4, 9, 5, 7, 8, 2, 4)

SAFETY_REPORT = SampleDocument(
    filename="SAF-2026-Q3-quarterly-safety-report.pdf",
    number="SAF-2026-Q3",
    title="Quarterly Safety Report, Q3 2026 (all sites)",
    device_type="turbine, thermal_engine, electrical_rotor, oil_gas",
    sites=SITES,
    pages=(
        SamplePage(
            heading="1. Performance by site",
            paragraphs=(
                "The fleet worked 1.94 million hours in the third quarter with 3 recordable "
                "injuries and no lost time injury. The total recordable injury rate (TRIR) fell "
                "to 0.31 per 200,000 hours from 0.44 in Q2. TX-EAGLE had the most reported near "
                "misses, which we read as a healthy reporting culture rather than poor safety.",
            ),
            table=Table(
                title="Table 1: Hours, recordable injuries and near misses per site",
                header=("Site", "Hours worked", "Recordables", "Near misses"),
                rows=tuple(
                    (site, f"{hours:,}", str(rec), str(nm))
                    for site, hours, rec, nm in zip(
                        SITES,
                        (
                            182_000,
                            341_000,
                            226_000,
                            118_000,
                            207_000,
                            164_000,
                            198_000,
                            173_000,
                            121_000,
                            210_000,
                        ),
                        (0, 1, 1, 0, 0, 0, 1, 0, 0, 0),
                        _NEAR_MISSES,
                        strict=True,
                    )
                ),
            ),
            questions=(
                Question("What was the total recordable injury rate in Q3 2026?", "0.31"),
                Question("How many hours were worked at ND-RAVEN in Q3?", "226,000"),
            ),
        ),
        SamplePage(
            heading="2. Lockout/tagout audit",
            paragraphs=(
                "Lockout/tagout (LOTO) audits were carried out at all ten sites. 412 isolations "
                "were checked and 19 findings raised. The most serious finding was at OK-BRAVO, "
                "where a variable speed drive feeding a pump jack had been isolated at the "
                "motor starter but not at its own disconnect, so the drive could have restarted "
                "the unit during work. The site has since retrained 26 technicians.",
                "Other findings: personal locks without name tags (7), group lock boxes without "
                "a lock list (5), and isolation certificates not signed off after the work (6).",
            ),
            questions=(
                Question(
                    "What was the most serious lockout/tagout finding at OK-BRAVO?",
                    "not at its own disconnect",
                ),
                Question("How many isolations were checked in the LOTO audit?", "412 isolations"),
            ),
        ),
        SamplePage(
            heading="3. Working at height and rescue drills",
            paragraphs=(
                "All wind sites ran the quarterly tower rescue drill. The target is to lower a "
                "casualty from the nacelle to the ground within 20 minutes of the alarm. "
                "WY-ALPHA achieved 14 minutes, CO-SIERRA 17 minutes and MT-PEAK 24 minutes; "
                "MT-PEAK missed the target because the rescue kit was stored in the tower base "
                "instead of the nacelle. Kits are now kept in every nacelle.",
                "At NM-MESA, a contractor was found working on a tank roof without a harness "
                "attachment point. Work was stopped and the tank roofs at NM-MESA received "
                "fixed anchor rails in September.",
            ),
            questions=(
                Question(
                    "Why did MT-PEAK miss the tower rescue drill target?",
                    "stored in the tower base",
                ),
                Question("What was done about tank roof work at NM-MESA?", "fixed anchor rails"),
            ),
        ),
        SamplePage(
            heading="4. Near miss highlights",
            paragraphs=(
                "CO-SIERRA: a 2 kg torque wrench fell 90 metres inside a turbine tower during a "
                "blade bolt inspection and landed in an exclusion zone; nobody was below. All "
                "tools used above 2 metres must now be tethered. TX-EAGLE: a tanker driver "
                "started to unload into the wrong tank; the high level alarm stopped the "
                "transfer. WY-ALPHA: a technician's vehicle slid off an icy access road; the "
                "road is now gritted before the morning shift from November to March.",
            ),
            figure=Figure(
                caption="Figure 1: Near misses reported per site in Q3 2026",
                labels=SITES,
                values=tuple(float(n) for n in _NEAR_MISSES),
                unit="reports",
            ),
            questions=(
                Question(
                    "What happened when a torque wrench was dropped inside a tower at CO-SIERRA?",
                    "torque wrench fell 90 metres",
                ),
                Question(
                    "What stopped the tanker from overfilling the wrong tank at TX-EAGLE?",
                    "high level alarm",
                ),
            ),
        ),
    ),
)
