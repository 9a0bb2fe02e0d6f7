"""Signed order postbacks: content, signatures, retries, ordering, replay, hold/release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shopwindow.partnersim.signing import generate_secret, sign_headers, verify
from tests.partnersim.conftest import Receiver, Sim, free_port, verify_manual, wait_for


def _delivered(sim: Sim, n: int) -> list[dict[str, Any]]:
    return wait_for(
        lambda: (d := [x for x in sim.deliveries() if x["outcome"] == "delivered"])
        and len(d) >= n and d, what=f"{n} delivered postbacks")


def test_signature_scheme_matches_spec_and_library(secret: str) -> None:
    body = '{"type":"order.paid"}'
    headers = sign_headers(secret, "evt_1", body)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert verify_manual(secret, headers, body.encode())
    assert Webhook(secret).verify(body, headers) == {"type": "order.paid"}
    assert verify(secret, body, headers) == {"type": "order.paid"}
    wrong = generate_secret()
    assert not verify_manual(wrong, headers, body.encode())
    with pytest.raises(WebhookVerificationError):
        verify(wrong, body, headers)
    with pytest.raises(WebhookVerificationError):  # tampered body
        verify(secret, body.replace("paid", "refunded"), headers)


def test_checkout_sends_placed_and_paid_with_totals(sim: Sim, receiver: Receiver,
                                                     secret: str) -> None:
    a, b = sim.first_products(2)
    order = sim.checkout([(a["id"], 3), (b["id"], 1)], tracking_id="clk_abc")
    wait_for(lambda: len(receiver.accepted) >= 2, what="postbacks")
    placed, paid = receiver.accepted
    assert placed["type"] == "order.placed" and paid["type"] == "order.paid"
    assert placed["sequence"] == 1 and paid["sequence"] == 2
    assert placed["event_id"] != paid["event_id"]
    assert paid["partner"] == {"name": "Test Mall", "slug": "test-mall"}
    d = paid["data"]
    assert d["order_id"] == order["order_id"] and d["tracking_id"] == "clk_abc"
    assert d["total_minor"] == a["price_minor"] * 3 + b["price_minor"] == order["total_minor"]
    assert d["refunded_total_minor"] == 0 and d["fully_refunded"] is False
    assert d["paid_at"] and d["placed_at"]
    assert [(ln["line_id"], ln["product_id"], ln["quantity"], ln["category"])
            for ln in d["lines"]] == [("L1", a["id"], 3, a["category"]),
                                      ("L2", b["id"], 1, b["category"])]
    # what went over the wire verifies with the library too, and webhook-id is the event id
    for r in receiver.all:
        assert r.headers["webhook-id"] == r.json["event_id"]
        assert r.headers["content-type"] == "application/json"
        Webhook(secret).verify(r.body, r.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(generate_secret()).verify(r.body, r.headers)


def test_partial_then_full_refund_reports_cumulative_amounts(sim: Sim,
                                                             receiver: Receiver) -> None:
    a, b = sim.first_products(2)
    order = sim.checkout([(a["id"], 2), (b["id"], 1)])
    oid, total = order["order_id"], order["total_minor"]
    r = sim.admin("POST", f"/_admin/orders/{oid}/refund", json={"amount_minor": 100,
                                                                 "line_id": "L1"})
    assert r.status_code == 200 and r.json()["status"] == "partially_refunded"
    r = sim.admin("POST", f"/_admin/orders/{oid}/refund", json={"amount_minor": 10**9})
    assert r.status_code == 422  # more than is refundable
    r = sim.admin("POST", f"/_admin/orders/{oid}/refund", json={})  # the rest
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    assert sim.admin("POST", f"/_admin/orders/{oid}/refund", json={}).status_code == 409
    assert sim.admin("POST", f"/_admin/orders/{oid}/cancel", json={}).status_code == 409
    wait_for(lambda: len(receiver.accepted) >= 4, what="refund postbacks")
    assert receiver.types() == ["order.placed", "order.paid", "order.refunded",
                                "order.refunded"]
    first, second = receiver.accepted[2:]
    assert first["data"]["refund"]["amount_minor"] == 100
    assert first["data"]["refund"]["lines"] == [
        {"line_id": "L1", "amount_minor": 100, "refunded_minor": 100}]
    assert first["data"]["refunded_total_minor"] == 100
    assert first["data"]["status"] == "partially_refunded"
    assert first["data"]["fully_refunded"] is False
    assert first["data"]["lines"][0]["refunded_minor"] == 100
    assert second["data"]["refund"]["amount_minor"] == total - 100
    assert second["data"]["refunded_total_minor"] == total
    assert second["data"]["fully_refunded"] is True and second["data"]["status"] == "refunded"
    assert [e["sequence"] for e in receiver.accepted] == [1, 2, 3, 4]


def test_cancel_sends_cancelled_and_restocks(sim: Sim, receiver: Receiver) -> None:
    a = sim.first_products(1)[0]
    order = sim.checkout([(a["id"], 2)], pay=False)
    assert order["status"] == "placed"
    r = sim.admin("POST", f"/_admin/orders/{order['order_id']}/cancel",
                  json={"reason": "changed mind"})
    assert r.json()["status"] == "cancelled"
    wait_for(lambda: len(receiver.accepted) >= 2, what="cancel postback")
    assert receiver.types() == ["order.placed", "order.cancelled"]
    assert receiver.accepted[1]["data"]["reason"] == "changed mind"
    assert sim.client.get(sim.url + f"/api/products/{a['id']}").json()["stock"] == a["stock"]
    assert sim.admin("POST", f"/_admin/orders/{order['order_id']}/pay").status_code == 409


def test_receiver_down_is_retried_with_backoff_in_order(sim: Sim, receiver: Receiver) -> None:
    receiver.fail_next = 2
    a = sim.first_products(1)[0]
    order = sim.checkout([(a["id"], 1)])
    wait_for(lambda: len(receiver.accepted) >= 2, what="delivery after retries")
    # placed was refused twice (503) and retried; paid waited for it: order is preserved
    assert receiver.types() == ["order.placed", "order.paid"]
    tries = [r for r in receiver.all if r.json["type"] == "order.placed"]
    assert [r.status for r in tries] == [503, 503, 204]
    assert len({r.headers["webhook-id"] for r in tries}) == 1
    gap1, gap2 = tries[1].at - tries[0].at, tries[2].at - tries[1].at
    assert gap1 >= 0.035 and gap2 >= 0.07  # 0.05 s then 0.1 s, +/-20% jitter
    log = sim.deliveries(order_id=order["order_id"])
    assert [(d["type"], d["attempt"], d["outcome"], d["status_code"]) for d in log] == [
        ("order.placed", 1, "retry", 503), ("order.placed", 2, "retry", 503),
        ("order.placed", 3, "delivered", 204), ("order.paid", 1, "delivered", 204)]


def test_unreachable_receiver_then_configured(make_sim: Any, receiver: Receiver,
                                              secret: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/postbacks"
    s = make_sim(postback_url=dead, secret=secret, max_attempts=50)
    a = s.first_products(1)[0]
    s.checkout([(a["id"], 1)])
    wait_for(lambda: len(s.deliveries()) >= 2, what="failed attempts")
    assert all(d["outcome"] == "retry" and d["status_code"] is None and d["error"]
               for d in s.deliveries())
    r = s.admin("POST", "/_admin/config", json={"postback_url": receiver.url})
    assert r.status_code == 200
    wait_for(lambda: len(receiver.accepted) >= 2, timeout=5, what="delivery after recovery")
    assert receiver.types() == ["order.placed", "order.paid"]


def test_client_errors_are_rejected_not_retried(make_sim: Any, receiver: Receiver) -> None:
    s = make_sim(postback_url=receiver.url, secret=generate_secret())  # receiver says 401
    a = s.first_products(1)[0]
    s.checkout([(a["id"], 1)])
    log = wait_for(lambda: len(d := s.deliveries()) >= 2 and d, what="rejections")
    assert [(d["outcome"], d["status_code"]) for d in log] == [("rejected", 401)] * 2
    events = s.admin("GET", "/_admin/events").json()["items"]
    assert {e["status"] for e in events} == {"rejected"}
    assert receiver.accepted == []


def test_429_is_retried_and_attempts_are_capped(make_sim: Any, receiver: Receiver,
                                                secret: str) -> None:
    receiver.fail_next, receiver.fail_status = 100, 429
    s = make_sim(postback_url=receiver.url, secret=secret, max_attempts=3)
    a = s.first_products(1)[0]
    order = s.checkout([(a["id"], 1)], pay=False)
    log = wait_for(lambda: len(d := s.deliveries()) >= 3 and d, what="3 attempts")
    assert [d["outcome"] for d in log] == ["retry", "retry", "failed"]
    ev = s.admin("GET", "/_admin/events", params={"order_id": order["order_id"]}).json()
    assert ev["items"][0]["status"] == "failed" and ev["items"][0]["attempts"] == 3


def test_replay_resends_the_same_event(sim: Sim, receiver: Receiver) -> None:
    a = sim.first_products(1)[0]
    sim.checkout([(a["id"], 1)])
    wait_for(lambda: len(receiver.accepted) >= 2, what="postbacks")
    paid = receiver.accepted[1]
    r = sim.admin("POST", f"/_admin/events/{paid['event_id']}/replay", json={"times": 2})
    assert r.status_code == 202
    wait_for(lambda: len(receiver.accepted) >= 4, what="replays")
    assert receiver.accepted[2:] == [paid, paid]
    assert [r.headers["webhook-id"] for r in receiver.all[2:]] == [paid["event_id"]] * 2
    assert sim.admin("POST", "/_admin/events/evt_nope/replay").status_code == 404


def test_replay_flag_duplicates_every_event(make_sim: Any, receiver: Receiver,
                                            secret: str) -> None:
    s = make_sim(postback_url=receiver.url, secret=secret, replay=1)
    a = s.first_products(1)[0]
    s.checkout([(a["id"], 1)])
    wait_for(lambda: len(receiver.accepted) >= 4, what="duplicated postbacks")
    ids = [e["event_id"] for e in receiver.accepted]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


def test_hold_and_release_out_of_order(sim: Sim, receiver: Receiver) -> None:
    assert sim.admin("POST", "/_admin/hold", json={"on": True}).json() == {"holding": True}
    a = sim.first_products(1)[0]
    order = sim.checkout([(a["id"], 2)])
    sim.admin("POST", f"/_admin/orders/{order['order_id']}/refund", json={"amount_minor": 1})
    events = sim.admin("GET", "/_admin/events").json()["items"]
    assert [e["status"] for e in events] == ["held"] * 3
    assert receiver.all == []
    by_type = {e["type"]: e["event_id"] for e in events}
    # refund first, then paid; placed stays held
    r = sim.admin("POST", "/_admin/release",
                  json={"event_ids": [by_type["order.refunded"], by_type["order.paid"]]})
    assert r.json() == {"released": 2, "holding": True}
    wait_for(lambda: len(receiver.accepted) >= 2, what="released events")
    assert receiver.types() == ["order.refunded", "order.paid"]
    r = sim.admin("POST", "/_admin/release", json={})  # everything else, hold off
    assert r.json() == {"released": 1, "holding": False}
    wait_for(lambda: len(receiver.accepted) >= 3, what="placed")
    assert receiver.types()[-1] == "order.placed"
    assert receiver.accepted[-1]["sequence"] == 1


def test_outbox_survives_restart(make_sim: Any, receiver: Receiver, secret: str,
                                 tmp_path: Path) -> None:
    s1 = make_sim(secret=secret, data_dir=tmp_path, postback_url=None)  # nowhere to send yet
    a = s1.first_products(1)[0]
    order = s1.checkout([(a["id"], 1)])
    s1.server.stop()
    s2 = make_sim(secret=secret, data_dir=tmp_path, postback_url=receiver.url)
    wait_for(lambda: len(receiver.accepted) >= 2, what="delivery after restart")
    assert {e["data"]["order_id"] for e in receiver.accepted} == {order["order_id"]}
    r = s2.admin("GET", f"/_admin/orders/{order['order_id']}")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    stock = s2.client.get(s2.url + f"/api/products/{a['id']}").json()["stock"]
    assert stock == a["stock"] - 1
