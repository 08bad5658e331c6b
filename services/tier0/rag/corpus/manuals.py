"""Equipment manuals of the sample corpus (text written for Tier-0's evaluation set)."""

from __future__ import annotations

from tier0.rag.corpus.model import Figure, Question, SampleDocument, SamplePage, Table

THERMAL_ENGINE_MANUAL = SampleDocument(
    filename="MAN-TE-450-thermal-engine-manual.pdf",
    number="MAN-TE-450 ed. 4",
    title="TE-450 Gas Thermal Engine: Operation and Maintenance Manual",
    device_type="thermal_engine",
    sites=("AK-NORTH", "LA-GULF", "TX-EAGLE"),
    pages=(
        SamplePage(
            heading="1. Description and ratings",
            paragraphs=(
                "The TE-450 is a 12-cylinder, turbocharged, lean-burn gas engine driving a "
                "generator or a gas compressor. It runs on pipeline or field gas with a methane "
                "number of at least 70. This manual covers operation, lubrication, cooling, cold "
                "starting and troubleshooting.",
            ),
            table=Table(
                title="Table 1: TE-450 ratings",
                header=("Parameter", "Value"),
                rows=(
                    ("Rated power", "1,200 kW"),
                    ("Rated speed", "1,500 rpm"),
                    ("Cylinders", "12, V arrangement"),
                    ("Fuel", "natural gas, methane number 70 or more"),
                    ("Lube oil sump capacity", "380 litres"),
                    ("Dry weight", "11.8 tonnes"),
                ),
            ),
            questions=(
                Question("What is the rated power of the TE-450 thermal engine?", "1,200 kW"),
                Question("How much oil does the TE-450 sump hold?", "380 litres"),
            ),
        ),
        SamplePage(
            heading="2. Lubrication",
            paragraphs=(
                "Use only low-ash gas engine oil of grade SAE 40 with a sulphated ash content "
                "between 0.4 and 0.6 percent. Mixing oil brands is not allowed; drain and flush "
                "before changing brand.",
                "Change the oil and the oil filters every 2,000 operating hours, or earlier if "
                "the oil analysis shows a total base number below 50 percent of the new oil "
                "value or viscosity more than 20 percent above new. Take an oil sample every "
                "500 hours.",
                "Oil pressure at the main gallery must stay above 3.5 bar at rated speed. The "
                "engine alarms at 3.0 bar and shuts down at 2.5 bar. Never restart after a low "
                "oil pressure shutdown until the cause has been found.",
            ),
            questions=(
                Question(
                    "How often should the TE-450 engine oil be changed?",
                    "every 2,000 operating hours",
                ),
                Question(
                    "At what oil pressure does the thermal engine shut down?",
                    "shuts down at 2.5 bar",
                ),
            ),
        ),
        SamplePage(
            heading="3. Cooling and exhaust temperatures",
            paragraphs=(
                "The jacket water outlet temperature is regulated to 88 degrees C by the "
                "thermostatic valve. A high jacket water temperature alarm is raised at 95 "
                "degrees C and the engine stops at 99 degrees C.",
                "Each cylinder has an exhaust thermocouple. The exhaust temperature limit is "
                "580 degrees C for any single cylinder. A deviation of more than 50 degrees C "
                "between one cylinder and the bank average usually points to a misfiring spark "
                "plug or a leaking gas admission valve; check the spark plug first.",
                "Clean the radiator fins at least every 1,000 hours at dusty sites such as "
                "TX-EAGLE, and every 3,000 hours elsewhere.",
            ),
            figure=Figure(
                caption="Figure 1: Typical exhaust temperature per cylinder at rated load",
                labels=("A1", "A2", "A3", "A4", "A5", "A6"),
                values=(541, 548, 536, 552, 544, 539),
                unit="deg C",
            ),
            questions=(
                Question(
                    "What is the maximum exhaust temperature for one cylinder of the TE-450?",
                    "580 degrees C",
                ),
                Question(
                    "What does a 50 degree exhaust temperature deviation on one cylinder indicate?",
                    "misfiring spark plug",
                ),
            ),
        ),
        SamplePage(
            heading="4. Cold start procedure",
            paragraphs=(
                "Below minus 20 degrees C ambient, as is common at AK-NORTH, the engine must be "
                "kept warm between runs. The jacket water block heater keeps the coolant at 40 "
                "degrees C or more; never attempt a start with coolant below 20 degrees C.",
                "Cold start sequence: confirm the block heater has been on for at least 8 hours, "
                "run the electric pre-lube pump for 2 minutes until oil pressure reads 0.5 bar, "
                "then crank. Limit cranking to 10 seconds with a 60 second pause, and no more "
                "than three attempts. After start, hold the engine at 900 rpm idle until the "
                "jacket water reaches 60 degrees C before loading.",
            ),
            questions=(
                Question(
                    "How long must the pre-lube pump run before a cold start of the TE-450?",
                    "2 minutes",
                ),
                Question(
                    "What coolant temperature must the block heater maintain on a thermal engine "
                    "at AK-NORTH?",
                    "40 degrees C",
                ),
            ),
        ),
        SamplePage(
            heading="5. Troubleshooting",
            paragraphs=(
                "Use the table below before calling the manufacturer's service line. Record the "
                "alarm history and the last oil analysis with every service call.",
            ),
            table=Table(
                title="Table 2: Common faults",
                header=("Symptom", "Likely cause", "Action"),
                rows=(
                    ("Engine cranks but will not fire", "gas valve train closed", "check GSV"),
                    ("Knock alarm at high load", "low methane number gas", "derate 20 percent"),
                    ("Rising crankcase pressure", "worn piston rings", "blow-by test"),
                    ("Hunting speed", "governor gain too high", "retune governor"),
                    ("Black exhaust smoke", "rich mixture, turbo fault", "check air filter"),
                ),
            ),
            questions=(
                Question(
                    "What should be done when the thermal engine gives a knock alarm at high load?",
                    "derate 20 percent",
                ),
                Question(
                    "What causes rising crankcase pressure in the TE-450?", "worn piston rings"
                ),
            ),
        ),
    ),
)

ROTOR_MANUAL = SampleDocument(
    filename="MAN-ER-200-electrical-rotor-service-manual.pdf",
    number="MAN-ER-200 ed. 2",
    title="ER-200 Electrical Rotor Machine: Service Manual",
    device_type="electrical_rotor",
    sites=("CA-DELTA", "OK-BRAVO"),
    pages=(
        SamplePage(
            heading="1. Machine overview",
            paragraphs=(
                "The ER-200 is a 4-pole wound rotor induction machine used for pumps and "
                "compressors. The rotor winding is brought out through three slip rings to an "
                "external resistor bank for starting. Insulation is class F (155 degrees C) "
                "used to class B temperature rise.",
            ),
            table=Table(
                title="Table 1: ER-200 nameplate data",
                header=("Parameter", "Value"),
                rows=(
                    ("Rated output", "2,000 kW"),
                    ("Stator voltage", "6.6 kV"),
                    ("Rated speed", "1,488 rpm"),
                    ("Cooling", "IC 611, air to air"),
                    ("Bearings", "rolling element, grease lubricated"),
                ),
            ),
            questions=(
                Question("What is the stator voltage of the ER-200 rotor machine?", "6.6 kV"),
            ),
        ),
        SamplePage(
            heading="2. Insulation resistance testing",
            paragraphs=(
                "Measure insulation resistance before first start, after any stop longer than "
                "four weeks and at every annual service. Use a 5 kV insulation tester on the "
                "stator winding and a 1 kV tester on the rotor winding, with the slip ring "
                "brushes lifted.",
                "Correct every reading to 40 degrees C. The stator winding needs at least 100 "
                "megohm after one minute and a polarisation index (10 minute reading divided by "
                "1 minute reading) of 2.0 or more. A machine below these limits must be dried "
                "out with its space heaters or a low-voltage DC current before it is energised.",
            ),
            questions=(
                Question(
                    "What minimum polarisation index does the ER-200 stator winding need?",
                    "2.0 or more",
                ),
                Question(
                    "Which test voltage is used for insulation testing of the stator winding?",
                    "5 kV insulation tester",
                ),
            ),
        ),
        SamplePage(
            heading="3. Bearings and vibration",
            paragraphs=(
                "Vibration is measured as RMS velocity on both bearing housings. The alarm "
                "limit is 4.5 mm/s and the trip limit is 7.1 mm/s. A step change of more than "
                "1 mm/s between two monthly readings must be investigated even below the alarm.",
                "Regrease each bearing with 30 g of lithium complex grease every 4,000 operating "
                "hours, with the machine running, and open the grease drain plug for 30 minutes "
                "afterwards so that the old grease can escape.",
            ),
            figure=Figure(
                caption="Figure 1: Drive end bearing vibration trend, CA-DELTA pump P-4",
                labels=("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
                values=(1.8, 1.9, 2.1, 2.0, 3.4, 4.6),
                unit="mm/s",
            ),
            questions=(
                Question(
                    "What is the vibration trip limit for the electrical rotor bearings?",
                    "trip limit is 7.1 mm/s",
                ),
                Question("How much grease goes into each ER-200 bearing and how often?", "30 g"),
            ),
        ),
        SamplePage(
            heading="4. Slip rings and brushes",
            paragraphs=(
                "Inspect slip rings and brushes every three months. Replace a brush when its "
                "length is down to 20 mm; a new brush is 40 mm long. Always replace all brushes "
                "of one ring together and bed new brushes to the ring curvature with fine "
                "abrasive cloth.",
                "Carbon dust builds up inside the slip ring enclosure and can cause a flashover "
                "between rings. Vacuum the enclosure at every inspection; do not use compressed "
                "air, which drives the dust into the winding.",
            ),
            questions=(
                Question("At what remaining length should slip ring brushes be replaced?", "20 mm"),
                Question(
                    "Why must compressed air not be used to clean the slip ring enclosure?",
                    "drives the dust into the winding",
                ),
            ),
        ),
    ),
)
