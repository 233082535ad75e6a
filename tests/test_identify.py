"""Party identification from ICAO address blocks, hex ranges, callsigns and lists."""

import polars as pl

from skyfence.agreement import load_agreement
from skyfence.agreement.identify import icao_blocks
from tests.agreements import simple, write


def test_country_of_real_addresses():
    blocks = icao_blocks()
    got = blocks.country_of([0xAE0455, 0x3B7777, 0x778123, 0x100ABC, 0x4B1803, 0x000001, -1])
    assert list(got) == ["United States", "France", "Syria", "Russia", "Switzerland", None, None]


def test_builtin_parties_on_real_aircraft(euphrates, samples):
    """The real US military PSWRD35 (ae0455) and French FAF4011 (3b7777) are coalition; Swiss civil traffic is not."""
    ids = pl.Series(["ae0455", "3b7777", "4b1803", "778001", "155abc", "~0a1b2c", None, "zzzzzz"])
    party = euphrates.identifier.assign(ids, pl.Series(["PSWRD35", "FAF4011", "SWR123", "", "", "", "", ""]))
    assert party.to_list() == ["coalition", "coalition", "unknown", "russia_syria", "russia_syria",
                               "unknown", "unknown", "unknown"]
    mil = samples.filter(pl.col("scenario") == "military_carrier_ops")
    assert set(euphrates.identifier.assign(mil["icao24"], mil["callsign"]).to_list()) == {"coalition"}


def test_precedence_list_over_range_over_callsign_over_country(tmp_path):
    doc = simple(parties=[
        {"id": "blue", "name": "Blue", "identify": {"countries": ["United States"], "callsigns": ["^RFF"]}},
        {"id": "red", "name": "Red", "identify": {"countries": ["Russia"], "hex_ranges": ["AE0000-AEFFFF"],
                                                  "icao24": ["a00001"]}},
    ])
    a = load_agreement(write(tmp_path, doc))
    got = a.identifier.assign(pl.Series(["a00001", "ae0001", "150000", "a12345", "150001"]),
                              pl.Series(["X", "X", "RFF11", "X", "X"]))
    # explicit list beats the US block; the hex range beats it too; the callsign beats the Russian block
    assert got.to_list() == ["red", "red", "blue", "blue", "red"]


def test_country_of_every_address():
    from skyfence.agreement.identify import address_country

    ids = pl.Series(["778001", "ae0455", "4baac6", "152000", "~abc123", "zzzzzz", None])
    assert address_country(ids).to_list() == ["Syria", "United States", "Turkey", "Russia", None, None, None]


def test_event_tables_get_each_aircrafts_country_beside_its_party_run_after_run():
    """The countries are kept per address between detection runs: a second run, and a run with other aircraft,
    give each row its own address's State (as address_country), placed after the party column."""
    from skyfence.agreement.identify import address_country
    from skyfence.analysis.pipeline import with_countries

    def tables(ids_a, ids_b):
        enc = pl.DataFrame({"track_a": ids_a, "party_a": ["x"] * len(ids_a), "track_b": ids_b,
                            "party_b": ["y"] * len(ids_b), "level": [1] * len(ids_a)})
        man = pl.DataFrame({"track_id": ids_b, "party": ["y"] * len(ids_b)})
        empty = pl.DataFrame(schema={"track_id": pl.String, "party": pl.String})
        return empty, enc, man, pl.DataFrame({"track_id": ids_a, "party": ["x"] * len(ids_a),
                                               "other_track_id": ids_b, "other_party": ["y"] * len(ids_b)})

    for ids_a, ids_b in ((["778001", "a00001", "~12ab34"], ["4b8123", "zzzzzz", "778001"]),
                         (["778001", "155a3f", "A00001 "], ["778001", "00000x", "710abc"])):
        cross, enc, man, inter = with_countries(pl.DataFrame(), *tables(ids_a, ids_b))
        want_a = address_country(pl.Series(ids_a)).to_list()
        want_b = address_country(pl.Series(ids_b)).to_list()
        assert enc.columns == ["track_a", "party_a", "country_a", "track_b", "party_b", "country_b", "level"]
        assert enc["country_a"].to_list() == want_a and enc["country_b"].to_list() == want_b
        assert man.columns == ["track_id", "party", "country"] and man["country"].to_list() == want_b
        assert inter["country"].to_list() == want_a and inter["other_country"].to_list() == want_b
        assert cross.columns == ["track_id", "party", "country"] and cross.height == 0
        assert cross.schema["country"] == pl.String


def test_a_full_country_cache_is_cleared_without_losing_the_answer(monkeypatch):
    """A monitor running long enough fills the cache of countries; the run that clears it still answers for the
    addresses it held (a KeyError stopped the monitor: review), and the next run too."""
    from skyfence.analysis import pipeline

    monkeypatch.setattr(pipeline, "_COUNTRIES", {})
    monkeypatch.setattr(pipeline, "_COUNTRIES_KEPT", 3)
    assert pipeline._countries({"778001", "ae0455"}) == {"778001": "Syria", "ae0455": "United States"}
    both = pipeline._countries({"778001", "4baac6", "152000"})  # two new: over 3 kept, cleared
    assert both == {"778001": "Syria", "4baac6": "Turkey", "152000": "Russia"}
    assert pipeline._countries({"778001", "ae0455", "zzzzzz"}) == {"778001": "Syria", "ae0455": "United States",
                                                                   "zzzzzz": None}
