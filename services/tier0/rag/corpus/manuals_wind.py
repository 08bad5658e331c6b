"""The wind turbine technical manual of the sample corpus."""

from __future__ import annotations

from tier0.rag.corpus.model import Figure, Question, SampleDocument, SamplePage, Table

TURBINE_MANUAL = SampleDocument(
    filename="MAN-WT-3000-wind-turbine-technical-manual.pdf",
    number="MAN-WT-3000 ed. 5",
    title="WT-3000 Wind Turbine: Technical Manual",
    device_type="turbine",
    sites=("WY-ALPHA", "MT-PEAK", "CO-SIERRA"),
    pages=(
        SamplePage(
            heading="1. Turbine data",
            paragraphs=(
                "The WT-3000 is a three-bladed, pitch-regulated, variable speed turbine with a "
                "three-stage gearbox, a doubly fed induction generator and a partial power "
                "converter. This manual describes the pitch, yaw and converter systems and the "
                "rules for work in the hub.",
            ),
            table=Table(
                title="Table 1: WT-3000 main data",
                header=("Parameter", "Value"),
                rows=(
                    ("Rated power", "3.0 MW"),
                    ("Rotor diameter", "126 m"),
                    ("Cut-in wind speed", "3 m/s"),
                    ("Rated wind speed", "11.5 m/s"),
                    ("Cut-out wind speed", "25 m/s"),
                    ("Generator voltage", "690 V"),
                ),
            ),
            questions=(
                Question("What is the rotor diameter of the WT-3000 turbine?", "126 m"),
                Question("At what wind speed does the WT-3000 start producing power?", "3 m/s"),
            ),
        ),
        SamplePage(
            heading="2. Pitch system",
            paragraphs=(
                "Each blade is pitched by its own hydraulic cylinder. In a grid loss or an "
                "emergency stop, nitrogen-charged accumulators feather all three blades without "
                "pump pressure. Each accumulator has a nitrogen precharge of 90 bar at 20 "
                "degrees C; check it every six months with the hydraulic system depressurised.",
                "A blade that takes more than 8 seconds to move from 0 to 90 degrees in the "
                "monthly feathering test indicates a weak accumulator or a sticking valve. The "
                "turbine must not run until the cause is fixed, because a slow blade cannot "
                "stop the rotor in an overspeed.",
            ),
            questions=(
                Question(
                    "What nitrogen precharge do the WT-3000 pitch accumulators need?", "90 bar"
                ),
                Question(
                    "How fast must a blade feather in the monthly feathering test?", "8 seconds"
                ),
            ),
        ),
        SamplePage(
            heading="3. Yaw system",
            paragraphs=(
                "Four yaw drives turn the nacelle on a slewing ring; hydraulic yaw brakes hold "
                "it at 160 bar. The controller follows the wind when the yaw error exceeds 8 "
                "degrees for more than 60 seconds.",
                "The power cables twist as the nacelle turns. After three full turns in one "
                "direction the controller stops the turbine and unwinds the cables at low wind. "
                "If the cable twist sensor fails, the turbine must not yaw more than one and a "
                "half turns from the parked position until the sensor is replaced.",
            ),
            questions=(
                Question(
                    "After how many turns does the turbine stop to untwist its cables?",
                    "three full turns",
                ),
                Question("What pressure holds the yaw brakes?", "160 bar"),
            ),
        ),
        SamplePage(
            heading="4. Converter and transformer",
            paragraphs=(
                "The partial power converter uses water-glycol cooled IGBT modules. Keep the "
                "coolant at 35 percent glycol at WY-ALPHA and CO-SIERRA and at 50 percent at "
                "MT-PEAK, where nacelle temperatures can fall to minus 35 degrees C. The "
                "converter derates when coolant inlet temperature exceeds 45 degrees C.",
                "The step-up transformer in the tower base raises 690 V to 34.5 kV. Oil samples "
                "for dissolved gas analysis are taken every year; rising acetylene means arcing "
                "inside the tank and the transformer must be taken out of service.",
            ),
            questions=(
                Question(
                    "What glycol concentration is used in the converter coolant at MT-PEAK?",
                    "50 percent at",
                ),
                Question("What does acetylene in the transformer oil sample mean?", "arcing"),
            ),
        ),
        SamplePage(
            heading="5. Rotor lock and work in the hub",
            paragraphs=(
                "Entering the hub requires the rotor lock pin to be engaged. The pin can only "
                "be engaged when the rotor turns at less than 2 rpm, with the brake applied. "
                "Hub entry is forbidden when the 10-minute average wind speed exceeds 15 m/s.",
                "Two technicians work in the hub at all times, and a third stays in the nacelle "
                "with the rescue kit. Before leaving the hub, count tools against the tool list: "
                "a dropped spanner inside a rotating hub can break a pitch bearing.",
            ),
            figure=Figure(
                caption="Figure 1: Hub entries per month across the fleet",
                labels=("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
                values=(14, 11, 19, 26, 31, 28),
                unit="entries",
            ),
            questions=(
                Question(
                    "What is the maximum wind speed allowed for technicians to enter the turbine "
                    "hub?",
                    "15 m/s",
                ),
                Question(
                    "How many technicians must be present for work inside the hub?",
                    "Two technicians",
                ),
            ),
        ),
    ),
)
