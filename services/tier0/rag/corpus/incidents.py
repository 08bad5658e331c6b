"""Incident reports of the sample corpus (text written for Tier-0's evaluation set)."""

from __future__ import annotations

from tier0.rag.corpus.model import Question, SampleDocument, SamplePage, Table

GAS_RELEASE_REPORT = SampleDocument(
    filename="INC-2026-014-LA-GULF-compressor-gas-release.pdf",
    number="INC-2026-014",
    title="Incident Report: Compressor Gas Release at LA-GULF",
    device_type="oil_gas",
    sites=("LA-GULF",),
    pages=(
        SamplePage(
            heading="1. Summary",
            paragraphs=(
                "On 14 March 2026 at 02:40, a natural gas release occurred at the LA-GULF "
                "compressor station from the seal of reciprocating compressor K-201. Fixed gas "
                "detectors in the compressor building reached 40 percent of the lower explosive "
                "limit. The emergency shutdown system isolated and blew down the unit. Nobody "
                "was injured and the gas did not ignite. Estimated release: 1,900 cubic metres.",
                "Classification: high potential incident, severity level 3 of 5.",
            ),
            questions=(
                Question(
                    "Which compressor leaked gas at LA-GULF in March 2026?", "compressor K-201"
                ),
                Question(
                    "How much gas was released in the LA-GULF compressor incident?",
                    "1,900 cubic metres",
                ),
            ),
        ),
        SamplePage(
            heading="2. Timeline",
            paragraphs=(
                "02:40 gas detector GD-207 alarms at 20 percent LEL. 02:41 second detector "
                "confirms, emergency shutdown trips K-201 and opens the blowdown valve. 02:44 "
                "night operator reaches the control room and confirms the trip. 02:58 fire "
                "brigade of the parish notified as a precaution. 03:35 gas readings back to "
                "zero; area barricaded. 06:10 maintenance team isolates the unit and starts the "
                "investigation.",
                "The blowdown took 3 minutes longer than designed because the blowdown valve "
                "actuator had a sticking solenoid. This did not change the outcome but is "
                "tracked as a separate finding.",
            ),
            questions=(
                Question(
                    "Why did the blowdown take longer than designed during the gas release?",
                    "sticking solenoid",
                ),
            ),
        ),
        SamplePage(
            heading="3. Root cause and corrective actions",
            paragraphs=(
                "The root cause was a worn rod packing on the second stage cylinder of K-201. "
                "The packing had run 11,200 hours against a replacement interval of 8,000 hours "
                "because the work order was deferred twice during the winter demand peak. The "
                "packing vent line was also partly blocked, so leakage went into the building "
                "instead of the vent stack.",
            ),
            table=Table(
                title="Table 1: Corrective actions",
                header=("Action", "Owner", "Due"),
                rows=(
                    ("Replace rod packing on all K-201 stages", "Maintenance", "2026-03-31"),
                    (
                        "Inspect packing vent lines at all compressor sites",
                        "Integrity",
                        "2026-04-30",
                    ),
                    (
                        "No deferral of safety-critical work orders without approval",
                        "Ops manager",
                        "2026-04-15",
                    ),
                    ("Replace blowdown valve solenoid", "Instrumentation", "2026-03-20"),
                ),
            ),
            questions=(
                Question(
                    "What was the root cause of the compressor gas release at LA-GULF?",
                    "worn rod packing",
                ),
                Question(
                    "How many hours had the K-201 packing run before it failed?", "11,200 hours"
                ),
            ),
        ),
    ),
)

COLD_START_REPORT = SampleDocument(
    filename="INC-2026-022-AK-NORTH-engine-cold-start-failure.pdf",
    number="INC-2026-022",
    title="Incident Report: TE-450 Cold Start Failure at AK-NORTH",
    device_type="thermal_engine",
    sites=("AK-NORTH",),
    pages=(
        SamplePage(
            heading="1. Summary and timeline",
            paragraphs=(
                "On 9 January 2026 the standby TE-450 generator set G-3 at AK-NORTH failed to "
                "start when the main unit tripped during a storm. Ambient temperature was minus "
                "41 degrees C. The camp ran on battery backup for 2 hours 20 minutes until a "
                "mobile generator was connected. No injuries; the water treatment plant froze "
                "partly and was out of service for two days.",
                "Timeline: 17:05 main unit G-1 trips on low gas pressure. 17:06 auto-start of G-3 "
                "fails after three cranking attempts. 17:30 technician finds G-3 coolant at minus "
                "12 degrees C. 19:25 mobile generator connected.",
            ),
            questions=(
                Question(
                    "What was the ambient temperature when the AK-NORTH standby engine failed to "
                    "start?",
                    "minus 41 degrees C",
                ),
                Question(
                    "How long did the AK-NORTH camp run on battery backup?", "2 hours 20 minutes"
                ),
            ),
        ),
        SamplePage(
            heading="2. Root cause",
            paragraphs=(
                "The block heater circuit breaker of G-3 had tripped four days earlier. The "
                "breaker alarm was wired to a panel lamp only and was not sent to the SCADA "
                "system, so nobody noticed that the engine was cooling down. A ground fault in "
                "the heater element caused the trip.",
                "Contributing factor: the weekly standby test had been skipped twice because of "
                "staff shortage during the holidays, so the cold engine was not detected by a "
                "test run.",
            ),
            questions=(
                Question(
                    "Why was nobody alerted that the G-3 block heater had stopped?",
                    "panel lamp only",
                ),
            ),
        ),
        SamplePage(
            heading="3. Corrective actions",
            paragraphs=(
                "Block heater breaker status and coolant temperature of every standby engine are "
                "now sent to SCADA, with an alarm when coolant falls below 30 degrees C. The "
                "heater element of G-3 was replaced and the element of G-2 was tested. The "
                "weekly standby test may no longer be skipped; if staff are short, the remote "
                "operations centre runs it. A second mobile generator is stationed at AK-NORTH "
                "from October to April.",
            ),
            questions=(
                Question(
                    "At what coolant temperature does SCADA now alarm for standby engines at "
                    "AK-NORTH?",
                    "below 30 degrees C",
                ),
            ),
        ),
    ),
)

ROTOR_OVERHEAT_REPORT = SampleDocument(
    filename="INC-2026-031-CA-DELTA-rotor-overheating.pdf",
    number="INC-2026-031",
    title="Incident Report: ER-200 Winding Overheating at CA-DELTA",
    device_type="electrical_rotor",
    sites=("CA-DELTA",),
    pages=(
        SamplePage(
            heading="1. Summary",
            paragraphs=(
                "On 2 July 2026 the ER-200 motor driving water injection pump P-4 at CA-DELTA "
                "tripped on high stator winding temperature. The winding RTDs read 162 degrees C, "
                "above the 155 degrees C limit of its class F insulation. The pump was out of "
                "service for 6 days while the machine was tested and cleaned.",
            ),
            questions=(
                Question(
                    "What winding temperature did the CA-DELTA pump motor reach before it tripped?",
                    "162 degrees C",
                ),
            ),
        ),
        SamplePage(
            heading="2. Investigation and findings",
            paragraphs=(
                "The air inlet filters of the air-to-air cooler were 80 percent blocked by "
                "windblown dust and agricultural chaff. Filter differential pressure had been "
                "rising for five weeks, but the filter change interval was set by calendar "
                "(every 6 months) and not by differential pressure. Ambient temperature on the "
                "day was 43 degrees C.",
                "Insulation resistance after cleaning was 240 megohm with a polarisation index "
                "of 2.6, so the winding was judged fit to return to service. The bearing "
                "vibration rise seen since May was traced to the same heat.",
            ),
            questions=(
                Question(
                    "What blocked the cooling air filters of the CA-DELTA rotor machine?",
                    "windblown dust and agricultural chaff",
                ),
            ),
        ),
        SamplePage(
            heading="3. Corrective actions",
            paragraphs=(
                "Filters on all ER-200 machines at CA-DELTA and OK-BRAVO are now changed when "
                "the differential pressure reaches 250 Pa, and at least every 3 months. "
                "Differential pressure transmitters were added to SCADA. A sun shade was built "
                "over the P-4 motor.",
            ),
            questions=(
                Question(
                    "At what filter differential pressure are ER-200 filters now changed?",
                    "250 Pa",
                ),
            ),
        ),
    ),
)

INCIDENT_REPORTS = (GAS_RELEASE_REPORT, COLD_START_REPORT, ROTOR_OVERHEAT_REPORT)
