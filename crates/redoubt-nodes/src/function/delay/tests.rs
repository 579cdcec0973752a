//! Unit tests of the delay node, run through a real engine (`crate::testing::Harness`).

use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::time::Instant;

fn base(kind: &str) -> Json {
    json!({"id":"d","type":"delay","pauseType":kind,"timeout":"1","timeoutUnits":"seconds","rate":"1","nbRateUnits":"1",
        "rateUnits":"second","randomFirst":"1","randomLast":"5","randomUnits":"seconds","drop":false,"wires":[["h"]]})
}

async fn delay(cfg: Json) -> Harness {
    let mut node = base(cfg["pauseType"].as_str().unwrap_or("delay"));
    if let (Some(n), Some(c)) = (node.as_object_mut(), cfg.as_object()) {
        for (k, v) in c {
            n.insert(k.clone(), v.clone());
        }
    }
    Harness::start(json!([node, {"id":"h","type":"helper"},{"id":"h2","type":"helper"}])).await
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

/// delays the message in seconds
#[tokio::test(start_paused = true)]
async fn delays_in_seconds() {
    let mut h = delay(json!({"timeout":"1","timeoutUnits":"seconds"})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":"x"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("x"));
    assert!((1000..1050).contains(&ms(t)), "{}", ms(t));
}

/// delays the message in milliseconds
#[tokio::test(start_paused = true)]
async fn delays_in_milliseconds_and_minutes() {
    let mut h = delay(json!({"timeout":"200","timeoutUnits":"milliseconds"})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":"x"})).await;
    h.recv("h").await;
    assert!((200..250).contains(&ms(t)));
    let mut h = delay(json!({"timeout":"0.05","timeoutUnits":"minutes"})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":"x"})).await;
    h.recv("h").await;
    assert!((3000..3050).contains(&ms(t)));
}

/// variable delay set by msg.delay the message in milliseconds
#[tokio::test(start_paused = true)]
async fn msg_delay_overrides() {
    let mut h = delay(json!({"pauseType":"delayv","timeout":"5","timeoutUnits":"seconds"})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":1,"delay":100})).await;
    h.recv("h").await;
    assert!((100..150).contains(&ms(t)));
    let t = Instant::now();
    h.send_json("d", json!({"payload":2,"delay":"50"})).await;
    h.recv("h").await;
    assert!((50..100).contains(&ms(t)));
    let t = Instant::now();
    h.send_json("d", json!({"payload":3,"delay":-5})).await;
    h.recv("h").await;
    assert!(ms(t) < 20);
}

/// variable delay is the default if msg.delay not specified
#[tokio::test(start_paused = true)]
async fn msg_delay_defaults_to_timeout() {
    let mut h = delay(json!({"pauseType":"delayv","timeout":"0.5","timeoutUnits":"seconds"})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":1})).await;
    h.recv("h").await;
    assert!((500..550).contains(&ms(t)));
}

/// randomly delays the message in seconds
#[tokio::test(start_paused = true)]
async fn random_delay_is_within_range() {
    let mut h = delay(
        json!({"pauseType":"random","randomFirst":"1","randomLast":"2","randomUnits":"seconds"}),
    )
    .await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":1})).await;
    h.recv("h").await;
    assert!((1000..2050).contains(&ms(t)), "{}", ms(t));
}

/// can flush delay queue
#[tokio::test(start_paused = true)]
async fn flush_sends_delayed_messages_now() {
    let mut h = delay(json!({})).await;
    for t in ["foo", "bar", "baz"] {
        h.send_json("d", json!({"payload":1,"topic":t})).await;
    }
    h.send_json("d", json!({"flush":2})).await;
    let t = Instant::now();
    assert_eq!(h.recv_json("h").await["topic"], json!("foo"));
    assert_eq!(h.recv_json("h").await["topic"], json!("bar"));
    assert!(ms(t) < 20);
    h.send_json("d", json!({"flush":true})).await;
    assert_eq!(h.recv_json("h").await["topic"], json!("baz"));
    assert!(ms(t) < 20);
    assert!(h.nothing("h", Duration::from_millis(1500)).await);
}

/// can reset delay queue
#[tokio::test(start_paused = true)]
async fn reset_drops_delayed_messages() {
    let mut h = delay(json!({})).await;
    h.send_json("d", json!({"payload":1})).await;
    h.send_json("d", json!({"payload":2})).await;
    h.send_json("d", json!({"reset":true})).await;
    assert!(h.nothing("h", Duration::from_millis(1500)).await);
}

/// limits the message rate to 1 per second
#[tokio::test(start_paused = true)]
async fn rate_limits_with_a_queue() {
    let mut h =
        delay(json!({"pauseType":"rate","rate":"1","nbRateUnits":"1","rateUnits":"second"})).await;
    let t = Instant::now();
    for i in 0..3 {
        h.send_json("d", json!({"payload":i})).await;
    }
    let mut times = Vec::new();
    for i in 0..3 {
        assert_eq!(h.recv_json("h").await["payload"], json!(i));
        times.push(ms(t));
    }
    assert!(
        times[0] < 20 && (1000..1050).contains(&times[1]) && (2000..2050).contains(&times[2]),
        "{times:?}"
    );
}

/// limits the message rate using msg.rate
#[tokio::test(start_paused = true)]
async fn msg_rate_changes_the_spacing() {
    let mut h =
        delay(json!({"pauseType":"rate","rate":"1","rateUnits":"second","allowrate":true})).await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":0,"rate":200})).await;
    h.send_json("d", json!({"payload":1,"rate":200})).await;
    h.recv("h").await;
    h.recv("h").await;
    assert!((200..250).contains(&ms(t)), "{}", ms(t));
}

/// limits the message rate to 2 per second, 5 seconds, with drop, 2nd output
#[tokio::test(start_paused = true)]
async fn rate_drop_uses_the_second_output() {
    let mut h = Harness::start(json!([
        {"id":"d","type":"delay","pauseType":"rate","rate":"2","nbRateUnits":"1","rateUnits":"second","drop":true,"outputs":2,"wires":[["h"],["h2"]]},
        {"id":"h","type":"helper"},{"id":"h2","type":"helper"}
    ]))
    .await;
    h.send_json("d", json!({"payload":0})).await;
    h.send_json("d", json!({"payload":1})).await;
    tokio::time::sleep(Duration::from_millis(510)).await;
    h.send_json("d", json!({"payload":2})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(0));
    assert_eq!(h.recv_json("h2").await["payload"], json!(1));
    assert_eq!(h.recv_json("h").await["payload"], json!(2));
}

/// can part push to front of rate limit queue
#[tokio::test(start_paused = true)]
async fn rate_queue_flush_and_to_front() {
    let mut h = delay(json!({"pauseType":"rate","rate":"1","rateUnits":"second"})).await;
    for m in [
        json!({"payload":1,"topic":"aoo"}),
        json!({"payload":1,"topic":"boo"}),
        json!({"payload":1,"topic":"coo","toFront":true}),
        json!({"payload":1,"topic":"doo","toFront":true,"flush":1}),
        json!({"payload":1,"topic":"eoo","toFront":true}),
        json!({"flush":1}),
    ] {
        h.send_json("d", m).await;
    }
    let mut topics = Vec::new();
    for _ in 0..3 {
        topics.push(h.recv_json("h").await["topic"].clone());
    }
    assert_eq!(topics, vec![json!("aoo"), json!("doo"), json!("eoo")]);
    h.send_json("d", json!({"flush":4})).await;
    assert_eq!(h.recv_json("h").await["topic"], json!("coo"));
    assert_eq!(h.recv_json("h").await["topic"], json!("boo"));
}

/// can full flush and reset rate limit queue
#[tokio::test(start_paused = true)]
async fn rate_flush_with_reset_sends_then_empties() {
    let mut h = delay(json!({"pauseType":"rate","rate":"1","rateUnits":"second"})).await;
    for p in 1..=3 {
        h.send_json("d", json!({"payload":p})).await;
    }
    h.send_json("d", json!({"payload":4,"flush":true,"reset":true}))
        .await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(h.recv_json("h").await["payload"].clone());
    }
    assert_eq!(got, vec![json!(1), json!(2), json!(3), json!(4)]);
    assert!(h.nothing("h", Duration::from_millis(1500)).await);
}

/// The conformance case: first passes, flush releases the queue, reset empties it.
#[tokio::test(start_paused = true)]
async fn rate_flush_then_reset() {
    let mut h =
        delay(json!({"pauseType":"rate","rate":"1","nbRateUnits":"10","rateUnits":"second"})).await;
    for p in [1, 2, 3] {
        h.send_json("d", json!({"payload":p})).await;
    }
    assert_eq!(h.recv_json("h").await["payload"], json!(1));
    h.send_json("d", json!({"flush":true})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(2));
    assert_eq!(h.recv_json("h").await["payload"], json!(3));
    for p in [4, 5, 6] {
        h.send_json("d", json!({"payload":p})).await;
    }
    h.send_json("d", json!({"reset":true})).await;
    h.send_json("d", json!({"payload":7})).await;
    h.send_json("d", json!({"payload":8})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(7));
    assert!(h.nothing("h", Duration::from_millis(5000)).await);
}

/// handles delay queue
#[tokio::test(start_paused = true)]
async fn topic_queue_sends_one_topic_per_tick() {
    let mut h = delay(json!({"pauseType":"queue","rate":"4","rateUnits":"second"})).await;
    tokio::time::sleep(Duration::from_millis(275)).await;
    for m in [
        json!({"payload":1}),
        json!({"payload":1,"topic":"A"}),
        json!({"payload":1,"topic":"B"}),
        json!({"payload":2,"topic":"A"}),
        json!({"payload":3,"topic":"A"}),
        json!({"payload":2}),
        json!({"payload":4,"topic":"A"}),
    ] {
        h.send_json("d", m).await;
    }
    let t = Instant::now();
    let a = h.recv_json("h").await;
    assert_eq!(
        (a["topic"].clone(), a["payload"].clone()),
        (json!("_none_"), json!(2))
    );
    let b = h.recv_json("h").await;
    assert_eq!(
        (b["topic"].clone(), b["payload"].clone()),
        (json!("A"), json!(4))
    );
    let c = h.recv_json("h").await;
    assert_eq!(
        (c["topic"].clone(), c["payload"].clone()),
        (json!("B"), json!(1))
    );
    assert!((700..800).contains(&ms(t)), "{}", ms(t));
}

/// handles timed queue
#[tokio::test(start_paused = true)]
async fn timed_queue_sends_every_topic_per_tick() {
    let mut h = delay(json!({"pauseType":"timed","rate":"2","rateUnits":"second"})).await;
    for m in [
        json!({"payload":1}),
        json!({"payload":1,"topic":"A"}),
        json!({"payload":2,"topic":"A"}),
    ] {
        h.send_json("d", m).await;
    }
    let t = Instant::now();
    assert_eq!(h.recv_json("h").await["topic"], json!("_none_"));
    assert_eq!(h.recv_json("h").await["payload"], json!(2));
    assert!((450..550).contains(&ms(t)), "{}", ms(t));
}

/// can reset a burst in burst mode
#[tokio::test(start_paused = true)]
async fn burst_mode() {
    let mut h =
        delay(json!({"pauseType":"burst","rate":"3","nbRateUnits":"1","rateUnits":"second"})).await;
    for p in 1..=5 {
        h.send_json("d", json!({"payload":p})).await;
    }
    h.send_json("d", json!({"reset":true})).await;
    h.send_json("d", json!({"payload":6})).await;
    let mut got = Vec::new();
    while let Some(m) = h.recv_within("h", Duration::from_millis(100)).await {
        got.push(redoubt_core::value::to_serde(&m.to_value())["payload"].clone());
    }
    assert_eq!(got, vec![json!(1), json!(2), json!(3), json!(6)]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    h.send_json("d", json!({"payload":7})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(7));
}

/// calls done when queued message is emitted (type: delay)
#[tokio::test(start_paused = true)]
async fn done_completes_when_the_message_leaves() {
    let mut h = Harness::start(json!([
        {"id":"d","type":"delay","pauseType":"delay","timeout":"500","timeoutUnits":"milliseconds","wires":[[]]},
        {"id":"c","type":"complete","scope":["d"],"uncaught":false,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let t = Instant::now();
    h.send_json("d", json!({"payload":1})).await;
    h.recv("h").await;
    assert!((500..550).contains(&ms(t)));
}

/// Status shows the number of waiting messages for delays over a second.
#[tokio::test(start_paused = true)]
async fn status_counts_waiting_messages() {
    let mut h = delay(json!({"timeout":"2"})).await;
    h.send_json("d", json!({"payload":1})).await;
    h.send_json("d", json!({"payload":2})).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let texts: Vec<String> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            redoubt_core::engine::RuntimeEvent::Status { status, .. } => status.text,
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["1".to_string(), "2".to_string()]);
}
