"""Operations runbooks of the sample corpus (text written for Tier-0's evaluation set)."""

from __future__ import annotations

from tier0.rag.corpus.model import Figure, Question, SampleDocument, SamplePage, Table

WIND_RUNBOOK = SampleDocument(
    filename="OPS-RB-101-wind-fleet-operations-runbook.pdf",
    number="OPS-RB-101 rev 7",
    title="Wind Turbine Fleet Operations Runbook",
    device_type="turbine",
    sites=("WY-ALPHA", "MT-PEAK", "CO-SIERRA"),
    pages=(
        SamplePage(
            heading="1. Scope and sites",
            paragraphs=(
                "This runbook tells field technicians and the remote operations centre how to "
                "run the wind turbine fleet day to day. It covers routine start-up and shutdown, "
                "operation in high wind and icing, the response to gearbox oil temperature "
                "alarms, and lightning procedures. Equipment details are in manual MAN-WT-3000.",
                "The remote operations centre in Casper is staffed around the clock and holds "
                "the authority to stop any turbine. A local stop by a technician always takes "
                "precedence over a remote start command; the controller ignores remote starts "
                "for 30 minutes after a local stop.",
            ),
            table=Table(
                title="Table 1: Wind sites covered by this runbook",
                header=("Site", "Turbines", "Model", "Hub height", "Site lead"),
                rows=(
                    ("WY-ALPHA", "84", "WT-3000", "90 m", "R. Okafor"),
                    ("MT-PEAK", "46", "WT-3000", "105 m", "L. Brandt"),
                    ("CO-SIERRA", "62", "WT-3000", "90 m", "J. Alvarez"),
                ),
            ),
            questions=(
                Question("How many turbines are installed at the WY-ALPHA wind site?", "84"),
                Question(
                    "Who has priority when a technician stops a turbine locally and the "
                    "operations centre sends a remote start?",
                    "ignores remote starts for 30 minutes",
                ),
            ),
        ),
        SamplePage(
            heading="2. Routine start-up and shutdown",
            paragraphs=(
                "Before a start-up, confirm on the SCADA screen that no turbine fault is "
                "latched, that the yaw system has aligned to within 8 degrees of the wind "
                "direction and that hydraulic pressure in the pitch system reads at least "
                "180 bar. Release the rotor brake and let the blades pitch from the feathered "
                "position to 60 degrees; the rotor should reach idle speed within two minutes.",
                "The generator is connected to the grid only after rotor speed has stayed "
                "inside the synchronisation window for 20 seconds. If a start-up is aborted "
                "three times within one hour, leave the turbine stopped and open a work order: "
                "repeated starts overheat the soft-starter and wear the main shaft bearing.",
                "For a normal shutdown, ramp active power down at 200 kW per second, pitch the "
                "blades to feather and apply the mechanical brake only once the rotor is below "
                "2 rpm. An emergency stop applies the brake at once and must be followed by a "
                "brake pad inspection before the next start.",
            ),
            questions=(
                Question(
                    "What minimum pitch hydraulic pressure is needed before starting a wind "
                    "turbine?",
                    "180 bar",
                ),
                Question(
                    "What should a technician do after three aborted turbine start-ups in one "
                    "hour?",
                    "open a work order",
                ),
            ),
        ),
        SamplePage(
            heading="3. High wind and icing operation",
            paragraphs=(
                "Turbines cut out automatically when the 10-minute average wind speed exceeds "
                "25 m/s or a 3-second gust exceeds 32 m/s. They may restart only after the "
                "10-minute average has stayed below 20 m/s for 30 minutes. Operators must not "
                "override a high wind cut-out from the remote operations centre.",
                "Icing is most frequent at MT-PEAK between November and March. When the ice "
                "detector on the nacelle reports ice, or when power output falls more than "
                "15 percent below the power curve at temperatures under 2 degrees C, stop the "
                "turbine and switch on the blade heating system. Restart only after the blades "
                "have been heated for at least 45 minutes and the ice detector has cleared.",
                "Ice thrown from a rotating rotor can travel 150 metres. During icing, close "
                "the access roads inside that radius and post the ice fall warning signs at "
                "WY-ALPHA and MT-PEAK.",
            ),
            questions=(
                Question("At what average wind speed do the turbines cut out?", "25 m/s"),
                Question(
                    "How long must blade heating run at MT-PEAK before a turbine restarts after "
                    "icing?",
                    "45 minutes",
                ),
                Question(
                    "How far can ice be thrown from a rotating rotor, and which roads are closed?",
                    "150 metres",
                ),
            ),
        ),
        SamplePage(
            heading="4. Gearbox oil temperature alarm response",
            paragraphs=(
                "The gearbox oil sump temperature has a warning threshold of 80 degrees C and "
                "a trip threshold of 90 degrees C. At the warning, the controller derates the "
                "turbine to 70 percent of rated power; at the trip it stops the turbine.",
                "On a warning, the operations centre checks the oil cooler fan status and the "
                "trend of the last 24 hours. A rise of more than 5 degrees C in one hour points "
                "to a failed cooler fan or a blocked radiator. A slow rise over several days "
                "points to degraded oil; request an oil sample and a particle count.",
                "After a trip, a technician must climb the turbine, inspect the cooler and the "
                "filter differential pressure indicator, and take an oil sample before any "
                "restart. Two trips within seven days on the same turbine require an endoscope "
                "inspection of the high speed stage gears.",
            ),
            figure=Figure(
                caption="Figure 1: Gearbox oil temperature alarms per site, last 12 months",
                labels=("WY-ALPHA", "MT-PEAK", "CO-SIERRA"),
                values=(31, 12, 22),
                unit="alarms",
            ),
            questions=(
                Question(
                    "At what gearbox oil temperature does a wind turbine trip?",
                    "trip threshold of 90 degrees C",
                ),
                Question(
                    "When is an endoscope inspection of the gearbox high speed stage required?",
                    "endoscope",
                ),
            ),
        ),
        SamplePage(
            heading="5. Lightning and storms",
            paragraphs=(
                "When the lightning detection network reports a strike within 10 km of a site, "
                "all technicians leave the turbines and the substation yard and wait in a "
                "vehicle or the site office. Climbing may resume 30 minutes after the last "
                "strike inside that radius.",
                "After a turbine records a lightning strike on its blade receptors, it stays "
                "stopped until a drone inspection of all three blades has been reviewed. "
                "CO-SIERRA recorded the most strikes in the fleet last season, so its drone "
                "team keeps a spare battery set charged from May to September.",
            ),
            figure=Figure(
                caption="Figure 2: Lightning strikes on blades per site, last season",
                labels=("WY-ALPHA", "MT-PEAK", "CO-SIERRA"),
                values=(9, 4, 17),
                unit="strikes",
            ),
            questions=(
                Question(
                    "How long after the last lightning strike can technicians climb turbines "
                    "again?",
                    "30 minutes after the last",
                ),
                Question(
                    "What inspection is needed before restarting a turbine hit by lightning?",
                    "drone inspection",
                ),
            ),
        ),
    ),
)

OIL_GAS_RUNBOOK = SampleDocument(
    filename="OPS-RB-204-wellsite-operations-runbook.pdf",
    number="OPS-RB-204 rev 3",
    title="Oil and Gas Wellsite Operations Runbook",
    device_type="oil_gas",
    sites=("TX-EAGLE", "ND-RAVEN", "NM-MESA", "OK-BRAVO", "LA-GULF"),
    pages=(
        SamplePage(
            heading="1. Scope and sites",
            paragraphs=(
                "This runbook covers routine and emergency operations at the company's "
                "onshore production sites: hydrogen sulphide (H2S) alarms, wellhead pressure "
                "and relief valve testing, flaring, and rod pump maintenance. Every person "
                "entering a wellsite must hold current H2S awareness training and carry a "
                "personal gas monitor.",
            ),
            table=Table(
                title="Table 1: Production sites and their H2S class",
                header=("Site", "Producing wells", "H2S class", "Flare permit"),
                rows=(
                    ("TX-EAGLE", "212", "Class 2 (sour)", "TCEQ 48812"),
                    ("ND-RAVEN", "138", "Class 1", "NDIC F-2291"),
                    ("NM-MESA", "97", "Class 2 (sour)", "NMED 7730"),
                    ("OK-BRAVO", "121", "Class 1", "OCC 55-103"),
                    ("LA-GULF", "64", "Class 1", "LDEQ 2604"),
                ),
            ),
            questions=(
                Question("Which production sites are classed as sour H2S sites?", "Class 2 (sour)"),
                Question("How many producing wells does ND-RAVEN have?", "138"),
            ),
        ),
        SamplePage(
            heading="2. H2S alarm response",
            paragraphs=(
                "Fixed H2S detectors alarm at two levels. The low alarm at 10 ppm sounds a horn "
                "and turns the beacon amber: stop work, put on the escape respirator and move "
                "upwind to the primary muster point. The high alarm at 20 ppm turns the beacon "
                "red and shuts in the wells automatically: evacuate the site by the upwind road.",
                "Re-entry after an H2S alarm is allowed only for a two-person team wearing "
                "self-contained breathing apparatus (SCBA), one of whom stays outside the "
                "affected area as standby. At TX-EAGLE and NM-MESA the windsocks are checked "
                "at the start of every shift because the prevailing wind changes with the season.",
                "Every H2S alarm, even a false one, is reported to the site lead within one hour "
                "and logged in the safety system with the detector tag and peak reading.",
            ),
            questions=(
                Question(
                    "At what H2S concentration do the wells shut in automatically?",
                    "high alarm at 20 ppm",
                ),
                Question("Who may re-enter a wellsite after an H2S alarm?", "two-person team"),
            ),
        ),
        SamplePage(
            heading="3. Wellhead pressure and relief valve testing",
            paragraphs=(
                "Each wellhead has a pressure relief valve (PRV) sized for the maximum shut-in "
                "pressure of the well. PRVs are bench tested every 12 months and after any lift "
                "event. A valve that lifts more than 5 percent away from its set pressure is "
                "replaced, not adjusted in the field.",
                "Casing annulus pressure above 500 psi on a producing well must be bled down and "
                "reported to the production engineer the same day; sustained casing pressure can "
                "mean a tubing leak or a failed packer.",
            ),
            table=Table(
                title="Table 2: PRV set pressures by site",
                header=("Site", "PRV set pressure", "Last bench test"),
                rows=(
                    ("TX-EAGLE", "1,480 psi", "2026-02"),
                    ("ND-RAVEN", "1,250 psi", "2026-05"),
                    ("NM-MESA", "1,600 psi", "2026-01"),
                    ("OK-BRAVO", "1,100 psi", "2026-04"),
                    ("LA-GULF", "1,350 psi", "2026-03"),
                ),
            ),
            questions=(
                Question(
                    "What is the relief valve set pressure at TX-EAGLE wellheads?", "1,480 psi"
                ),
                Question(
                    "What annulus pressure on a producing well must be bled down and reported?",
                    "above 500 psi",
                ),
            ),
        ),
        SamplePage(
            heading="4. Flaring and venting",
            paragraphs=(
                "Gas that cannot be sold is flared, never vented, except for the small volumes "
                "released during instrument maintenance. The flare pilot must be lit whenever "
                "the well is producing; a pilot failure alarm gives the operator 15 minutes to "
                "relight before the wells shut in.",
                "At ND-RAVEN winter temperatures fall below minus 30 degrees C. The flare "
                "knock-out drum there is heat traced and its drain is checked for ice every 4 "
                "hours from December to February. Flaring at ND-RAVEN is limited to 300 "
                "thousand cubic feet per day per well under the state permit; the operator logs "
                "the daily flare volume before 08:00.",
            ),
            questions=(
                Question(
                    "What is the daily flaring limit per well at ND-RAVEN?",
                    "300 thousand cubic feet",
                ),
                Question(
                    "How long does an operator have to relight a failed flare pilot?",
                    "15 minutes",
                ),
            ),
        ),
        SamplePage(
            heading="5. Rod pump maintenance",
            paragraphs=(
                "Rod pumps (pump jacks) are inspected weekly. Check the polished rod for scoring, "
                "the stuffing box for leaks and the belt tension on the prime mover; belts that "
                "deflect more than 12 mm under thumb pressure are re-tensioned. The gearbox oil "
                "level is checked monthly and the oil changed every 24 months.",
                "Before any work on the pumping unit, stop the prime mover, set the brake with "
                "the counterweights at the bottom of the stroke, and apply a personal lock. "
                "OK-BRAVO runs 40 of its units on variable speed drives; on those units the "
                "drive must also be locked out at its disconnect.",
            ),
            figure=Figure(
                caption="Figure 1: Average daily oil production per site (barrels)",
                labels=("TX-EAGLE", "ND-RAVEN", "NM-MESA", "OK-BRAVO", "LA-GULF"),
                values=(18400, 9600, 7100, 5200, 3900),
                unit="bbl/day",
            ),
            questions=(
                Question(
                    "How much belt deflection means a pump jack belt needs re-tensioning?",
                    "12 mm",
                ),
                Question("How often is the pump jack gearbox oil changed?", "every 24 months"),
            ),
        ),
    ),
)

RUNBOOKS = (WIND_RUNBOOK, OIL_GAS_RUNBOOK)
