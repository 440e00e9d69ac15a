//! The outbox's rules: batching, one regular request at a time, retries, splits,
//! refusals, flush marks, keepalive budget and the storage snapshot.

use super::*;
use crate::core::retry::RetryPolicy;

fn policy(max_batch: usize) -> Policy {
    Policy {
        max_batch,
        interval_ms: 500,
        max_queue: 100,
        max_queue_bytes: usize::MAX,
        max_event_bytes: usize::MAX,
        retry: RetryPolicy {
            base_ms: 1000,
            cap_ms: 60_000,
            rate_limit_ms: 30_000,
        },
    }
}

fn outbox(max_batch: usize) -> Outbox {
    let mut outbox = Outbox::new(policy(max_batch));
    outbox.set_enabled(true);
    outbox
}

fn ok(n: usize) -> Reply {
    status(
        200,
        vec![
            EventResult {
                success: true,
                error: None
            };
            n
        ],
    )
}

fn status(status: u16, results: Vec<EventResult>) -> Reply {
    Reply::Status {
        status,
        results,
        retry_after_ms: None,
    }
}

/// The request `next` makes now, or a panic.
fn send(outbox: &mut Outbox, now: u64) -> Request {
    match outbox.next(now) {
        Next::Send(request) => request,
        other => panic!("expected a send, got {other:?}"),
    }
}

fn events_in(request: &Request) -> Vec<serde_json::Value> {
    let parsed: serde_json::Value = serde_json::from_str(&request.body).expect("body is JSON");
    parsed["events"].as_array().cloned().expect("events array")
}

fn push_n(outbox: &mut Outbox, now: u64, n: u32) {
    for i in 0..n {
        outbox.push(now, format!("{{\"n\":{i}}}"));
    }
}

#[test]
fn waits_for_quiet_time_then_sends_everything_queued() {
    let mut outbox = outbox(20);
    outbox.push(1000, "{}".into());
    outbox.push(1200, "{}".into());
    assert_eq!(outbox.next(1300), Next::WakeAt(1700));
    assert_eq!(events_in(&send(&mut outbox, 1700)).len(), 2);
}

#[test]
fn sends_at_once_when_the_batch_size_is_reached() {
    let mut outbox = outbox(3);
    push_n(&mut outbox, 0, 2);
    assert_eq!(outbox.due_at(0), Some(500));
    push_n(&mut outbox, 0, 1);
    assert_eq!(outbox.due_at(0), Some(0));
    assert_eq!(events_in(&send(&mut outbox, 0)).len(), 3);
}

#[test]
fn one_regular_request_in_flight_at_a_time() {
    let mut outbox = outbox(1);
    push_n(&mut outbox, 0, 1);
    let first = send(&mut outbox, 0);
    push_n(&mut outbox, 0, 1);
    assert_eq!(outbox.next(10_000), Next::Idle);
    assert_eq!(outbox.on_reply(10, first.id, ok(1), 0.5).delivered, 1);
    assert_eq!(events_in(&send(&mut outbox, 10)).len(), 1);
    assert_eq!(outbox.stats.delivered, 1);
    assert_eq!(outbox.stats.requests, 2);
}

#[test]
fn nothing_is_sent_before_enabled() {
    let mut outbox = Outbox::new(Policy::default());
    push_n(&mut outbox, 0, 50);
    assert_eq!(outbox.next(100_000), Next::Idle);
    outbox.set_enabled(true);
    assert_eq!(events_in(&send(&mut outbox, 100_000)).len(), 50);
}

#[test]
fn small_batches_go_with_keepalive_and_large_ones_without() {
    let mut small = outbox(1);
    push_n(&mut small, 0, 1);
    assert!(send(&mut small, 0).keepalive);
    let mut big = outbox(1);
    big.push(0, format!("\"{}\"", "x".repeat(70_000)));
    assert!(!send(&mut big, 0).keepalive);
}

#[test]
fn failed_requests_stay_queued_and_back_off_with_jitter() {
    let mut outbox = outbox(1);
    outbox.push(0, "{\"a\":1}".into());
    let request = send(&mut outbox, 0);
    let handled = outbox.on_reply(5, request.id, Reply::NetworkError, 0.5);
    assert_eq!(handled.retry_in_ms, Some(500), "half of the 1 s ceiling");
    assert_eq!(outbox.pending(), 1);
    assert_eq!(outbox.next(6), Next::WakeAt(505));
    let again = send(&mut outbox, 505);
    assert_eq!(again.body, request.body, "the same events, again");
    let handled = outbox.on_reply(510, again.id, status(503, vec![]), 0.75);
    assert_eq!(handled.retry_in_ms, Some(1500), "¾ of the 2 s ceiling");
    assert_eq!(outbox.stats.retried, 2);
    assert_eq!(outbox.stats.delivered, 0);
}

#[test]
fn a_readable_retry_after_is_honoured_and_a_flush_keeps_to_it() {
    let mut outbox = outbox(1);
    push_n(&mut outbox, 0, 1);
    let request = send(&mut outbox, 0);
    let reply = Reply::Status {
        status: 429,
        results: vec![],
        retry_after_ms: Some(2000),
    };
    assert_eq!(
        outbox.on_reply(0, request.id, reply, 0.0).retry_in_ms,
        Some(2000)
    );
    outbox.flush_mark();
    assert_eq!(outbox.next(10), Next::WakeAt(2000));
}

#[test]
fn a_429_without_retry_after_waits_for_the_rate_window() {
    let mut outbox = outbox(1);
    push_n(&mut outbox, 0, 1);
    let request = send(&mut outbox, 0);
    assert_eq!(
        outbox
            .on_reply(0, request.id, status(429, vec![]), 0.1)
            .retry_in_ms,
        Some(30_000)
    );
}

#[test]
fn a_flush_cuts_our_own_backoff_short_once() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 1);
    let mark = outbox.flush_mark();
    let request = send(&mut outbox, 0);
    outbox.on_reply(1, request.id, Reply::NetworkError, 0.9);
    assert!(!outbox.settled(mark), "a flush waits through retries");
    assert_eq!(outbox.next(2), Next::WakeAt(901), "no tight retry loop");
    outbox.flush_mark();
    assert!(
        matches!(outbox.next(2), Next::Send(_)),
        "a new flush tries again at once"
    );
}

#[test]
fn client_errors_drop_the_batch_with_the_status() {
    let mut outbox = outbox(2);
    push_n(&mut outbox, 0, 2);
    let request = send(&mut outbox, 0);
    let handled = outbox.on_reply(1, request.id, status(401, vec![]), 0.5);
    assert_eq!(handled.retry_in_ms, None);
    assert_eq!(
        handled.dropped,
        [Dropped {
            reason: DropReason::Status(401),
            count: 2
        }]
    );
    assert_eq!(outbox.pending(), 0);
    assert_eq!(outbox.stats.dropped_status, 2);
}

#[test]
fn a_413_splits_the_batch_in_halves_until_it_fits() {
    let mut outbox = outbox(8);
    push_n(&mut outbox, 0, 8);
    let all = send(&mut outbox, 0);
    assert!(outbox
        .on_reply(1, all.id, status(413, vec![]), 0.5)
        .dropped
        .is_empty());
    let half = send(&mut outbox, 1);
    assert_eq!(events_in(&half).len(), 4, "sent again at once, in halves");
    outbox.on_reply(2, half.id, status(413, vec![]), 0.5);
    let quarter = send(&mut outbox, 2);
    assert_eq!(events_in(&quarter).len(), 2);
    outbox.on_reply(3, quarter.id, ok(2), 0.5);
    let rest = send(&mut outbox, 3);
    assert_eq!(
        events_in(&rest).len(),
        6,
        "an accepted batch lifts the limit"
    );
}

#[test]
fn a_413_for_one_event_drops_it() {
    let mut outbox = outbox(1);
    push_n(&mut outbox, 0, 1);
    let request = send(&mut outbox, 0);
    let handled = outbox.on_reply(1, request.id, status(413, vec![]), 0.5);
    assert_eq!(
        handled.dropped,
        [Dropped {
            reason: DropReason::TooLarge,
            count: 1
        }]
    );
    assert_eq!(outbox.pending(), 0);
}

#[test]
fn refused_events_are_dropped_with_the_servers_reason_and_not_resent() {
    let mut outbox = outbox(3);
    push_n(&mut outbox, 0, 3);
    let request = send(&mut outbox, 0);
    let results = vec![
        EventResult {
            success: true,
            error: None,
        },
        EventResult {
            success: false,
            error: Some("bad role".into()),
        },
        EventResult {
            success: false,
            error: None,
        },
    ];
    let handled = outbox.on_reply(1, request.id, status(200, results), 0.5);
    assert_eq!(handled.delivered, 1);
    assert_eq!(
        handled.dropped,
        [
            Dropped {
                reason: DropReason::Refused("bad role".into()),
                count: 1
            },
            Dropped {
                reason: DropReason::Refused("refused".into()),
                count: 1
            },
        ]
    );
    assert_eq!(outbox.pending(), 0);
    assert_eq!(outbox.next(10_000), Next::Idle);
    assert_eq!(
        (outbox.stats.delivered, outbox.stats.dropped_refused),
        (1, 2)
    );
}

#[test]
fn flush_settles_when_everything_before_it_is_answered() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 1);
    let mark = outbox.flush_mark();
    assert!(!outbox.settled(mark));
    let request = send(&mut outbox, 0);
    push_n(&mut outbox, 1, 1);
    assert!(!outbox.settled(mark), "in flight is not settled");
    outbox.on_reply(2, request.id, ok(1), 0.5);
    assert!(
        outbox.settled(mark),
        "later events do not hold back an earlier flush"
    );
    let next_mark = outbox.flush_mark();
    assert!(!outbox.settled(next_mark));
}

#[test]
fn a_full_queue_drops_the_oldest_and_says_so() {
    let mut outbox = Outbox::new(Policy {
        max_queue: 2,
        ..Policy::default()
    });
    assert_eq!(outbox.push(0, "1".into()), None);
    assert_eq!(outbox.push(0, "2".into()), None);
    assert_eq!(
        outbox.push(0, "3".into()),
        Some(Dropped {
            reason: DropReason::QueueFull,
            count: 1
        })
    );
    assert_eq!(outbox.pending(), 2);
    assert_eq!(outbox.stats.dropped_queue_full, 1);
}

#[test]
fn stale_or_unknown_replies_change_nothing() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 1);
    assert_eq!(
        outbox.on_reply(0, 99, Reply::NetworkError, 0.5),
        Handled::default()
    );
    assert_eq!(outbox.pending(), 1);
}

#[test]
fn keepalive_requests_share_a_64_kib_budget_and_pass_over_big_events() {
    let mut outbox = outbox(1000);
    let event = |n: usize| format!("\"{}\"", "x".repeat(n));
    outbox.push(0, event(40_000));
    outbox.push(0, event(30_000));
    outbox.push(0, event(20_000));
    outbox.push(0, event(100_000));
    let first = outbox.take_keepalive(0).expect("a keepalive request");
    assert!(first.keepalive && first.body.len() <= KEEPALIVE_BUDGET);
    assert_eq!(
        events_in(&first).len(),
        2,
        "40 kB and 20 kB fit; 30 kB does not fit beside them"
    );
    assert!(
        outbox.take_keepalive(0).is_none(),
        "the budget is spent while they are in flight"
    );
    outbox.on_reply(1, first.id, ok(2), 0.5);
    assert!(
        outbox.take_keepalive(1 + KEEPALIVE_LINGER_MS - 1).is_none(),
        "an answered keepalive request still counts for a moment (browsers free it late)"
    );
    let second = outbox
        .take_keepalive(1 + KEEPALIVE_LINGER_MS)
        .expect("the budget is back");
    assert_eq!(events_in(&second).len(), 1);
    assert_eq!(
        outbox.pending(),
        2,
        "the 100 kB event waits for a regular request"
    );
}

#[test]
fn the_snapshot_keeps_undelivered_events_in_order() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 2);
    outbox.flush_mark();
    let regular = send(&mut outbox, 0);
    assert!(
        regular.keepalive,
        "a small regular batch goes with keepalive"
    );
    for n in 2..5 {
        outbox.push(0, format!("{{\"n\":{n}}}"));
    }
    let unload = outbox.take_keepalive(0).expect("a keepalive request");
    assert_eq!(events_in(&unload).len(), 3);
    assert_eq!(
        outbox.snapshot(false).len(),
        5,
        "in flight counts as undelivered"
    );
    assert!(
        outbox.snapshot(true).is_empty(),
        "keepalive requests count as sent once the page is gone"
    );
    outbox.on_reply(1, regular.id, Reply::NetworkError, 0.5);
    assert_eq!(
        outbox.snapshot(true).len(),
        5,
        "after a failure the keepalive requests in flight are kept too: they most likely failed"
    );
    let order: Vec<&str> = outbox.snapshot(false);
    assert_eq!(
        order,
        [
            "{\"n\":0}",
            "{\"n\":1}",
            "{\"n\":2}",
            "{\"n\":3}",
            "{\"n\":4}"
        ]
    );
}

#[test]
fn a_large_regular_request_stays_in_the_snapshot_when_the_page_goes() {
    let mut outbox = outbox(1);
    outbox.push(0, format!("\"{}\"", "x".repeat(70_000)));
    let request = send(&mut outbox, 0);
    assert!(!request.keepalive);
    assert_eq!(
        outbox.snapshot(true).len(),
        1,
        "the browser may cancel it: keep it"
    );
}

#[test]
fn restored_events_go_first_and_are_counted() {
    let mut outbox = outbox(20);
    outbox.push(0, "{\"new\":1}".into());
    outbox.restore(vec!["{\"old\":1}".into(), "{\"old\":2}".into()]);
    let mark = outbox.flush_mark();
    let request = send(&mut outbox, 0);
    assert_eq!(
        request.body,
        r#"{"events":[{"old":1},{"old":2},{"new":1}]}"#
    );
    outbox.on_reply(1, request.id, ok(3), 0.5);
    assert!(outbox.settled(mark));
    assert_eq!(
        (
            outbox.stats.tracked,
            outbox.stats.restored,
            outbox.stats.delivered
        ),
        (1, 2, 3)
    );
}

#[test]
fn opting_out_clears_the_queue_and_keeps_nothing_until_opted_in() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 3);
    assert_eq!(
        outbox.set_opted_out(true),
        Some(Dropped {
            reason: DropReason::OptedOut,
            count: 3
        })
    );
    push_n(&mut outbox, 0, 5);
    outbox.restore(vec!["{}".into()]);
    assert_eq!(outbox.pending(), 0);
    assert_eq!(outbox.next(10_000), Next::Idle);
    assert_eq!(
        (outbox.stats.tracked, outbox.stats.dropped_opted_out),
        (3, 4)
    );
    assert_eq!(outbox.set_opted_out(false), None);
    push_n(&mut outbox, 0, 1);
    assert_eq!(outbox.pending(), 1);
}

#[test]
fn while_the_server_fails_leaving_keeps_everything_for_the_next_page() {
    let mut outbox = outbox(20);
    push_n(&mut outbox, 0, 2);
    outbox.flush_mark();
    let first = send(&mut outbox, 0);
    outbox.on_reply(1, first.id, status(500, vec![]), 0.0);
    assert!(outbox.failing());
    push_n(&mut outbox, 2, 1);
    assert_eq!(
        outbox.take_keepalive(0),
        None,
        "no fire-and-forget request to a failing server"
    );
    let retry = send(&mut outbox, 5);
    assert!(retry.keepalive);
    assert_eq!(
        outbox.snapshot(true).len(),
        3,
        "the retry in flight is kept: it most likely fails too"
    );
    outbox.on_reply(6, retry.id, ok(3), 0.5);
    assert!(!outbox.failing());
}

#[test]
fn an_event_over_the_size_cap_is_dropped_and_the_queue_keeps_the_rest() {
    let mut outbox = Outbox::new(Policy {
        max_event_bytes: 100,
        max_queue_bytes: 150,
        ..Policy::default()
    });
    push_n(&mut outbox, 0, 3);
    let huge = format!("\"{}\"", "x".repeat(200));
    assert_eq!(
        outbox.push(0, huge),
        Some(Dropped {
            reason: DropReason::TooLarge,
            count: 1
        })
    );
    assert_eq!(outbox.pending(), 3, "the older events are still there");
    assert_eq!(
        (outbox.stats.tracked, outbox.stats.dropped_too_large),
        (4, 1)
    );
}
