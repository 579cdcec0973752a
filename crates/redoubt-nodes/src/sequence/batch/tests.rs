//! Unit tests of the batch node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn batch(cfg: Json) -> Harness {
    let mut node = cfg;
    node["id"] = json!("b");
    node["type"] = json!("batch");
    node["wires"] = json!([["h"]]);
    Harness::start(json!([node, {"id":"h","type":"helper"}])).await
}

/// Receives sequences and checks their parts; returns the payloads.
async fn recv_seqs(h: &mut Harness, sizes: &[usize]) -> Vec<Vec<Json>> {
    let mut out = Vec::new();
    for &n in sizes {
        let mut seq = Vec::new();
        let mut id = None;
        for i in 0..n {
            let m = h.recv_json("h").await;
            assert_eq!(m["parts"]["index"], json!(i));
            assert_eq!(m["parts"]["count"], json!(n));
            let this = m["parts"]["id"].clone();
            assert_eq!(id.get_or_insert(this.clone()), &this);
            seq.push(m["payload"].clone());
        }
        out.push(seq);
    }
    out
}

async fn send_count_inputs(h: &Harness) {
    for i in 0..6 {
        h.send_json("b", json!({"payload":i,"parts":{"count":6,"index":i}}))
            .await;
    }
}

/// should create seq. with count
#[tokio::test(start_paused = true)]
async fn sequences_by_count() {
    let mut h = batch(json!({"mode":"count","count":2,"overlap":0})).await;
    send_count_inputs(&h).await;
    let s = recv_seqs(&mut h, &[2, 2, 2]).await;
    assert_eq!(
        s,
        vec![
            vec![json!(0), json!(1)],
            vec![json!(2), json!(3)],
            vec![json!(4), json!(5)]
        ]
    );
}

/// should create seq. with count and terminate early if parts honoured
#[tokio::test(start_paused = true)]
async fn sequences_end_with_honoured_parts() {
    let mut h = batch(json!({"mode":"count","count":4,"overlap":0,"honourParts":true})).await;
    send_count_inputs(&h).await;
    let s = recv_seqs(&mut h, &[4, 2]).await;
    assert_eq!(s[1], vec![json!(4), json!(5)]);
}

/// should create seq. with count and overlap
#[tokio::test(start_paused = true)]
async fn sequences_with_overlap() {
    let mut h = batch(json!({"mode":"count","count":3,"overlap":2})).await;
    send_count_inputs(&h).await;
    let s = recv_seqs(&mut h, &[3, 3, 3, 3]).await;
    assert_eq!(s[3], vec![json!(3), json!(4), json!(5)]);
    assert_eq!(s[1], vec![json!(1), json!(2), json!(3)]);
}

/// should handle reset
#[tokio::test(start_paused = true)]
async fn count_reset_drops_held_messages() {
    let mut h = batch(json!({"mode":"count","count":2,"overlap":0})).await;
    for m in [
        json!({"payload":0}),
        json!({"payload":1}),
        json!({"payload":2}),
        json!({"payload":3,"reset":true}),
    ] {
        h.send_json("b", m).await;
    }
    h.send_json("b", json!({"payload":4})).await;
    h.send_json("b", json!({"payload":5})).await;
    let s = recv_seqs(&mut h, &[2, 2]).await;
    assert_eq!(s[1], vec![json!(4), json!(5)]);
}

/// should create seq. with interval & send empty seq
#[tokio::test(start_paused = true)]
async fn sequences_by_interval_with_empty() {
    let mut h = batch(json!({"mode":"interval","interval":1,"allowEmptySequence":true})).await;
    let start = tokio::time::Instant::now();
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"], json!(null));
    assert_eq!(m["parts"]["count"], json!(1));
    assert!(start.elapsed() >= Duration::from_millis(1000));
    h.send_json("b", json!({"payload":"a"})).await;
    h.send_json("b", json!({"payload":"b"})).await;
    assert_eq!(
        recv_seqs(&mut h, &[2]).await[0],
        vec![json!("a"), json!("b")]
    );
}

/// should create seq. with interval & not send empty seq
#[tokio::test(start_paused = true)]
async fn empty_intervals_send_nothing() {
    let mut h = batch(json!({"mode":"interval","interval":0.5,"allowEmptySequence":false})).await;
    assert!(h.nothing("h", Duration::from_millis(1200)).await);
    h.send_json("b", json!({"payload":0})).await;
    assert_eq!(recv_seqs(&mut h, &[1]).await[0], vec![json!(0)]);
}

/// should concat two seq. (mixed)
#[tokio::test(start_paused = true)]
async fn concatenates_sequences_in_topic_order() {
    let mut h = batch(json!({"mode":"concat","topics":[{"topic":"TA"},{"topic":"TB"}]})).await;
    for (t, p, i, c) in [
        ("TA", 2, 0, 2),
        ("TB", 0, 0, 2),
        ("TA", 3, 1, 2),
        ("TB", 1, 1, 2),
    ] {
        h.send_json(
            "b",
            json!({"topic":t,"payload":p,"parts":{"id":t,"index":i,"count":c}}),
        )
        .await;
    }
    assert_eq!(
        recv_seqs(&mut h, &[4]).await[0],
        vec![json!(2), json!(3), json!(0), json!(1)]
    );
}

/// should concat same seq.
#[tokio::test(start_paused = true)]
async fn concatenates_a_repeated_topic() {
    let mut h = batch(json!({"mode":"concat","topics":[{"topic":"TA"},{"topic":"TA"}]})).await;
    for (p, i) in [(9, 0), (8, 1)] {
        h.send_json(
            "b",
            json!({"topic":"TA","payload":p,"parts":{"id":"TA","index":i,"count":2}}),
        )
        .await;
    }
    assert_eq!(
        recv_seqs(&mut h, &[4]).await[0],
        vec![json!(9), json!(8), json!(9), json!(8)]
    );
}

/// should handle too many pending messages
#[tokio::test(start_paused = true)]
async fn too_many_pending_messages() {
    let mut opts = HarnessOptions::default();
    opts.settings
        .raw
        .insert("nodeMessageBufferMaxLength".into(), json!(2));
    let mut h = Harness::start_with(
        json!([
            {"id":"b","type":"batch","mode":"count","count":5,"overlap":0,"wires":[["h"]]},
            {"id":"c","type":"catch","scope":["b"],"uncaught":false,"wires":[["e"]]},
            {"id":"h","type":"helper"},{"id":"e","type":"helper"}
        ]),
        opts,
    )
    .await;
    for i in 0..3 {
        h.send_json("b", json!({"payload":i})).await;
    }
    let e = h.recv_json("e").await;
    assert_eq!(
        e["error"]["message"],
        json!("too many pending messages in batch node")
    );
    assert_eq!(e["payload"], json!(2));
}

/// Invalid count and overlap
#[tokio::test(start_paused = true)]
async fn overlap_must_be_below_count() {
    let h = batch(json!({"mode":"count","count":2,"overlap":2})).await;
    assert!(!h.engine.input("b", redoubt_core::Msg::new()).await);
}

/// should call done() when message is sent (mode: count)
#[tokio::test(start_paused = true)]
async fn done_waits_for_the_sequence() {
    let mut h = Harness::start(json!([
        {"id":"b","type":"batch","mode":"count","count":2,"overlap":0,"wires":[[]]},
        {"id":"c","type":"complete","scope":["b"],"uncaught":false,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("b", json!({"payload":0})).await;
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    h.send_json("b", json!({"payload":1})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(0));
    assert_eq!(h.recv_json("h").await["payload"], json!(1));
}
