"""Hotline contacts in the agreement: loaded, checked with the field named, and the built-in ones."""

import copy

import pytest

from skyfence.agreement import load_agreement
from skyfence.errors import AgreementError
from skyfence.hotline.severity import SEVERITIES
from skyfence.hotline.urls import ChannelURLError, parse_channel
from tests.agreements import simple, write


def with_contacts(contacts_blue, **top):
    doc = simple(**top)
    doc["parties"] = copy.deepcopy(doc["parties"])
    doc["parties"][0]["contacts"] = contacts_blue
    return doc


def test_builtin_agreement_names_two_contacts_per_party():
    ag = load_agreement("euphrates-2017")
    for party in ag.parties:
        assert len(party.contacts) == 2
        first, second = party.contacts
        assert first.acknowledge_within == 180 and first.resend == 1 and first.min_severity == "caution"
        assert second.acknowledge_within == 300 and second.min_severity == "warning"
    assert ag.hotline.group_wait == 10 and ag.hotline.repeat_interval == 120


def test_contacts_load_with_channels_kinds_and_severity(tmp_path):
    doc = with_contacts([{"name": "ops", "channels": ["https://ops.example:8443/hook", "mqtt://127.0.0.1/sf",
                                                      "cot+tcp://10.0.0.5:8087", "log:hot.jsonl", "console"],
                          "kinds": ["crossing"], "min_severity": "crossing", "acknowledge_within": "90 s",
                          "resend": 2, "secret_env": "BLUE_SECRET"},
                         {"name": "chief"}], hotline={"group_wait": "0 s", "repeat_interval": "30 s"})
    ag = load_agreement(write(tmp_path, doc))
    ops, chief = ag.party("blue").contacts
    assert ops.channels == ("https://ops.example:8443/hook", "mqtt://127.0.0.1:1883/sf", "cot+tcp://10.0.0.5:8087",
                            "log:hot.jsonl", "console")
    assert ops.kinds == ("crossing",) and ops.acknowledge_within == 90 and ops.resend == 2
    assert ops.wants("crossing", "deep_crossing", SEVERITIES)
    assert not ops.wants("crossing", "warning", SEVERITIES)
    assert not ops.wants("encounter", "nmac", SEVERITIES)
    assert chief.wants("manoeuvre", "info", SEVERITIES) and chief.channels == ()
    assert ag.party("red").contacts == ()
    assert ag.hotline.group_wait == 0 and ag.hotline.repeat_interval == 30


@pytest.mark.parametrize("contact, field, words", [
    ({"name": "a", "channels": ["ftp://x"]}, "parties[0].contacts[0].channels[0]", "unknown channel"),
    ({"name": "a", "channels": ["http://user:pw@host/x"]}, "parties[0].contacts[0].channels[0]", "secrets"),
    ({"name": "a", "channels": ["mqtt://host/a/#"]}, "parties[0].contacts[0].channels[0]", "wildcards"),
    ({"name": "a", "min_severity": "warnig"}, "parties[0].contacts[0].min_severity", "did you mean 'warning'"),
    ({"name": "a", "acknowledge_within": "soon"}, "parties[0].contacts[0].acknowledge_within", ""),
    ({"name": "a", "acknowledge_within": 0}, "parties[0].contacts[0].acknowledge_within", "positive"),
    ({"name": "a", "kinds": ["crosing"]}, "parties[0].contacts[0].kinds[0]", ""),
    ({"name": "a", "resend": -1}, "parties[0].contacts[0].resend", ""),
    ({"name": "a", "phone": "112"}, "parties[0].contacts[0].phone", "unknown field"),
    ({"name": "a", "secret_env": "not a var"}, "parties[0].contacts[0].secret_env", ""),
])
def test_a_bad_contact_names_its_field(tmp_path, contact, field, words):
    with pytest.raises(AgreementError) as err:
        load_agreement(write(tmp_path, with_contacts([contact])))
    assert err.value.field == field
    assert words in err.value.message


def test_a_contact_named_twice_and_a_bad_grouping(tmp_path):
    with pytest.raises(AgreementError, match=r"contacts\[1\].name: contact 'a' is named twice"):
        load_agreement(write(tmp_path, with_contacts([{"name": "a"}, {"name": "a"}])))
    with pytest.raises(AgreementError, match="hotline.repeat_interval"):
        load_agreement(write(tmp_path, with_contacts([], hotline={"repeat_interval": "-1 s"})))


@pytest.mark.parametrize("text, shown", [
    ("http://127.0.0.1:9000/hook", "http://127.0.0.1:9000/hook"),
    ("http://localhost", "http://localhost:80/"),
    ("mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1883/skyfence"),
    ("mqtt://broker/ops/alerts/", "mqtt://broker:1883/ops/alerts"),
    ("cot+udp://239.2.3.1:6969", "cot+udp://239.2.3.1:6969"),
    ("log://var/hot.jsonl", "log:var/hot.jsonl"),
])
def test_channel_addresses_are_normalised(text, shown):
    assert parse_channel(text).text == shown


@pytest.mark.parametrize("text", ["", "http://", "cot+tcp://h:1/path", "mqtt://h:99999/x", "log:", "tcp://h:1"])
def test_bad_channel_addresses(text):
    with pytest.raises(ChannelURLError):
        parse_channel(text)
