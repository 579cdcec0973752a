//! Ported from `test/nodes/core/parsers/70-CSV_spec.js` (both describe
//! blocks), plus the behaviour recorded in the conformance cases.

use crate::testing::Harness;
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn start(mut node: Json) -> Harness {
    node["id"] = json!("n1");
    node["type"] = json!("csv");
    node["wires"] = json!([["h"]]);
    Harness::start(json!([node, {"id":"h","type":"helper"}])).await
}

/// Sends one message and returns the first output.
async fn one(node: Json, msg: Json) -> Json {
    let mut h = start(node).await;
    h.send_json("n1", msg).await;
    h.recv_json("h").await
}

fn parts(m: &Json) -> (Json, Json) {
    (m["parts"]["index"].clone(), m["parts"]["count"].clone())
}

fn warnings(h: &mut Harness) -> Vec<String> {
    h.drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

fn rfc(mut cfg: Json) -> Json {
    cfg["spec"] = json!("rfc");
    cfg
}

// ---- legacy mode: csv to json ----

/// should convert a simple csv string to a javascript object
#[tokio::test(start_paused = true)]
async fn legacy_simple_string_to_object() {
    for cfg in [json!({"temp":"a,b,c,d"}), rfc(json!({"temp":"a,b,c,d"}))] {
        let m = one(cfg, json!({"payload":"1,2,3,4\n"})).await;
        assert_eq!(m["payload"], json!({"a":1,"b":2,"c":3,"d":4}));
        assert_eq!(m["columns"], json!("a,b,c,d"));
        assert_eq!(parts(&m), (json!(0), json!(1)));
    }
}

/// should convert a simple string to a javascript object with | separator (no template)
#[tokio::test(start_paused = true)]
async fn pipe_separator_without_template() {
    for cfg in [json!({"sep":"|"}), rfc(json!({"sep":"|"}))] {
        let m = one(cfg, json!({"payload":"1|2|3|4\n"})).await;
        assert_eq!(m["payload"], json!({"col1":1,"col2":2,"col3":3,"col4":4}));
        assert_eq!(m["columns"], json!("col1,col2,col3,col4"));
    }
}

/// should convert a simple string to a javascript object with tab separator (with template)
#[tokio::test(start_paused = true)]
async fn tab_separator_with_template() {
    for cfg in [
        json!({"sep":"\\t","temp":"A,B,,D"}),
        rfc(json!({"sep":"\t","temp":"A,B,,D"})),
    ] {
        let m = one(cfg, json!({"payload":"1\t2\t3\t4\n"})).await;
        assert_eq!(m["payload"], json!({"A":1,"B":2,"D":4}));
        assert_eq!(m["columns"], json!("A,B,D"));
    }
}

/// should convert a simple string to a javascript object with space separator (with spaced template)
#[tokio::test(start_paused = true)]
async fn space_separator_with_spaced_template() {
    let m = one(
        json!({"sep":" ","temp":"A, B, , D"}),
        json!({"payload":"1 2 3 4\n"}),
    )
    .await;
    assert_eq!(m["payload"], json!({"A":1,"B":2,"D":4}));
    assert_eq!(m["columns"], json!("A,B,D"));
    let m = one(
        rfc(json!({"sep":" ","temp":"A, B, , D"})),
        json!({"payload":"1 2 3 4\n"}),
    )
    .await;
    assert_eq!(m["payload"], json!({"A":1," B":2," ":3," D":4}));
    assert_eq!(m["columns"], json!("A, B, , D"));
}

/// should remove quotes and whitespace from template
#[tokio::test(start_paused = true)]
async fn legacy_template_is_unquoted_and_trimmed() {
    let m = one(
        json!({"temp":"\"a\",  \"b\" , \" c \",\" d  \" "}),
        json!({"payload":"1,2,3,4\n"}),
    )
    .await;
    assert_eq!(m["payload"], json!({"a":1,"b":2,"c":3,"d":4}));
}

/// should not remove quotes and whitespace from template - should set status and send warning
#[tokio::test(start_paused = true)]
async fn rfc_malformed_template_disables_the_node() {
    let mut h = start(rfc(
        json!({"temp":"\"a\",  \"b\" , \" c \",\" d  \" ","ret":"\\n"}),
    ))
    .await;
    let events = h.drain_events();
    assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Log { level: LogLevel::Warn, text, .. } if text == "Malformed columns template.")));
    assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Status { status, .. }
        if status.fill.as_deref() == Some("red") && status.text.as_deref() == Some("Malformed columns template."))));
    h.send_json("n1", json!({"payload":"1,2\n"})).await;
    assert!(h.nothing("h", Duration::from_millis(200)).await);
}

/// should create column names if no template provided
#[tokio::test(start_paused = true)]
async fn column_names_are_generated() {
    for cfg in [json!({"temp":""}), rfc(json!({"temp":""}))] {
        let m = one(cfg, json!({"payload":"1,2,3,4\n"})).await;
        assert_eq!(m["payload"], json!({"col1":1,"col2":2,"col3":3,"col4":4}));
        assert_eq!(m["columns"], json!("col1,col2,col3,col4"));
    }
}

/// should allow dropping of fields from the template
#[tokio::test(start_paused = true)]
async fn template_gaps_drop_fields() {
    for cfg in [json!({"temp":"a,,,d"}), rfc(json!({"temp":"a,,,d"}))] {
        let m = one(cfg, json!({"payload":"1,2,3,4\n"})).await;
        assert_eq!(m["payload"], json!({"a":1,"d":4}));
        assert_eq!(m["columns"], json!("a,d"));
    }
}

/// should allow commas and spaces in the template
#[tokio::test(start_paused = true)]
async fn commas_and_spaces_in_template() {
    let temp = "a,b b,\"c,c\",\" d, d \"";
    let m = one(json!({"temp":temp}), json!({"payload":"1,2,3,4\n"})).await;
    assert_eq!(m["payload"], json!({"a":1,"b b":2,"c,c":3,"d, d":4}));
    assert_eq!(m["columns"], json!("a,b b,\"c,c\",\"d, d\""));
    let m = one(rfc(json!({"temp":temp})), json!({"payload":"1,2,3,4\n"})).await;
    assert_eq!(m["payload"], json!({"a":1,"b b":2,"c,c":3," d, d ":4}));
    assert_eq!(m["columns"], json!("a,b b,\"c,c\",\" d, d \""));
}

/// should allow passing in a template as first line of CSV
#[tokio::test(start_paused = true)]
async fn header_row_as_template() {
    let input = "a,b b,\"c,c\",\" d, d \"\n1,2,3,4\n";
    let m = one(json!({"temp":"","hdrin":true}), json!({"payload":input})).await;
    assert_eq!(m["payload"], json!({"a":1,"b b":2,"c,c":3,"d, d":4}));
    assert_eq!(m["columns"], json!("a,b b,\"c,c\",\"d, d\""));
    assert_eq!(parts(&m), (json!(0), json!(1)));
    let m = one(
        rfc(json!({"temp":"","hdrin":true})),
        json!({"payload":input}),
    )
    .await;
    assert_eq!(m["payload"], json!({"a":1,"b b":2,"c,c":3," d, d ":4}));
    assert_eq!(m["columns"], json!("a,b b,\"c,c\",\" d, d \""));
}

/// should allow passing in a template as first line of CSV (not comma)
#[tokio::test(start_paused = true)]
async fn header_row_with_other_separators() {
    for sep in [";", "/", "\\"] {
        let input = format!("a{sep}b b{sep}\"c{sep}c\"{sep}\" d, d \"\n1{sep}2{sep}3{sep}4\n");
        let m = one(
            json!({"temp":"","hdrin":true,"sep":sep}),
            json!({"payload":input}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!({"a":1,"b b":2,format!("c{sep}c"):3,"d, d":4}),
            "legacy {sep}"
        );
        assert_eq!(m["columns"], json!(format!("a,b b,c{sep}c,\"d, d\"")));
        let m = one(
            rfc(json!({"temp":"","hdrin":true,"sep":sep})),
            json!({"payload":input}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!({"a":1,"b b":2,format!("c{sep}c"):3," d, d ":4}),
            "rfc {sep}"
        );
        assert_eq!(m["columns"], json!(format!("a,b b,c{sep}c,\" d, d \"")));
    }
}

/// should leave numbers starting with 0, e and + as strings (except 0.)
#[tokio::test(start_paused = true)]
async fn numbers_with_leading_zero_e_or_plus_stay_strings() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g"}),
        rfc(json!({"temp":"a,b,c,d,e,f,g"})),
    ] {
        let m = one(cfg, json!({"payload":"123,0123,+123,e123,E123,-123\n"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":123,"b":"0123","c":"+123","d":"e123","e":"E123","f":-123})
        );
    }
}

/// should not parse numbers when told not to do so
#[tokio::test(start_paused = true)]
async fn numbers_kept_as_text_when_disabled() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g","strings":false}),
        rfc(json!({"temp":"a,b,c,d,e,f,g","strings":false})),
    ] {
        let m = one(cfg, json!({"payload":"1.23,0123,+123,e123,0,-123,1e3\n"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":"1.23","b":"0123","c":"+123","d":"e123","e":"0","f":"-123","g":"1e3"})
        );
    }
}

/// should parse numbers when told to do so
#[tokio::test(start_paused = true)]
async fn padded_numbers_are_parsed() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g"}),
        rfc(json!({"temp":"a,b,c,d,e,f,g"})),
    ] {
        let m = one(cfg, json!({"payload":" 1.23 ,  -123,1e3 ,    0  \n"})).await;
        assert_eq!(m["payload"], json!({"a":1.23,"b":-123,"c":1000,"d":0}));
    }
}

/// should leave handle strings with scientific notation as numbers
#[tokio::test(start_paused = true)]
async fn scientific_notation_is_numeric() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g"}),
        rfc(json!({"temp":"a,b,c,d,e,f,g"})),
    ] {
        let m = one(cfg, json!({"payload":"12E3,12e-3,-12e3,-12E-3\n"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":12000,"b":0.012,"c":-12000,"d":-0.012})
        );
    }
}

/// should allow quotes in the input (but drop blank strings)
#[tokio::test(start_paused = true)]
async fn quoted_input_drops_blank_strings() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g,h"}),
        rfc(json!({"temp":"a,b,c,d,e,f,g,h"})),
    ] {
        let m = one(cfg, json!({"payload":"\"1\",\"-2\",\"+3\",\"04\",\"\",\"-05\",\"ab\"\"cd\",\"with,a,comma\"\n"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":1,"b":-2,"c":"+3","d":"04","f":"-05","g":"ab\"cd","h":"with,a,comma"})
        );
    }
}

/// should allow blank strings in the input if selected
#[tokio::test(start_paused = true)]
async fn blank_strings_kept_when_selected() {
    let cfg = json!({"temp":"a,b,c,d,e,f,g","include_empty_strings":true});
    for cfg in [cfg.clone(), rfc(cfg)] {
        let m = one(
            cfg,
            json!({"payload":"\"1\",\"\",\"\",\"\",\"-05\",\"ab\"\"cd\",\"with,a,comma\"\n"}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!({"a":1,"b":"","c":"","d":"","e":"-05","f":"ab\"cd","g":"with,a,comma"})
        );
    }
}

/// should allow missing columns (nulls) in the input if selected
#[tokio::test(start_paused = true)]
async fn nulls_kept_when_selected() {
    let cfg = json!({"temp":"a,b,c,d,e,f,g","include_null_values":true});
    for cfg in [cfg.clone(), rfc(cfg)] {
        let m = one(
            cfg,
            json!({"payload":"\"1\",,\"+3\",,\"-05\",\"ab\"\"cd\",\"with,a,comma\"\n"}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!({"a":1,"b":null,"c":"+3","d":null,"e":"-05","f":"ab\"cd","g":"with,a,comma"})
        );
    }
}

/// should handle cr and lf in the input
#[tokio::test(start_paused = true)]
async fn quoted_line_breaks_are_data() {
    for cfg in [
        json!({"temp":"a,b,c,d,e,f,g"}),
        rfc(json!({"temp":"a,b,c,d,e,f,g"})),
    ] {
        let m = one(cfg, json!({"payload":"\"with a\nnew line\",\"and a\rcarriage return\",\"and why\r\nnot both\"\n"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":"with a\nnew line","b":"and a\rcarriage return","c":"and why\r\nnot both"})
        );
    }
}

/// should recover from an odd number of quotes in the input
#[tokio::test(start_paused = true)]
async fn odd_quotes_recover() {
    let bad = "\"with,a\"n,odd\",\"num\"ber\",\"of\"qu\"ot\"es\"\n";
    let mut h = start(json!({"temp":"a,b,c,d,e,f,g"})).await;
    h.send_json("n1", json!({"payload":bad})).await;
    h.send_json("n1", json!({"payload":"\"this is\",\"a normal\",\"line\""}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":"with,an","b":"odd,number","c":"ofquotes\n"})
    );
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":"this is","b":"a normal","c":"line"})
    );
    assert!(
        warnings(&mut h).contains(&"Malformed CSV data - output probably corrupt.".to_string())
    );

    let mut h = start(rfc(json!({"temp":"a,b,c,d,e,f,g"}))).await;
    h.send_json("n1", json!({"payload":bad})).await;
    h.send_json("n1", json!({"payload":"\"this is\",\"a normal\",\"line\""}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":"with,a\"n","b":"odd","c":"num\"ber","d":"of\"qu\"ot\"es"})
    );
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":"this is","b":"a normal","c":"line"})
    );
}

/// should recover from an odd number of quotes in the input (2)
#[tokio::test(start_paused = true)]
async fn legacy_odd_quotes_swallow_following_lines() {
    let bad =
        "\"with,a\"n,odd\",\"num\"ber\",\"of\"qu\"ot\"es\"\n\"this is\",\"a normal\",\"line\"\n";
    let mut h = start(json!({"temp":"a,b,c,d,e,f,g"})).await;
    h.send_json("n1", json!({"payload":bad})).await;
    h.send_json("n1", json!({"payload":"\"this is\",\"another\",\"line\""}))
        .await;
    let m = h.recv_json("h").await;
    assert_eq!(
        m["payload"],
        json!({"a":"with,an","b":"odd,number","c":"ofquotes\nthis is,a normal,line\n"})
    );
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":"this is","b":"another","c":"line"})
    );
}

/// should handle newlines in the input data
#[tokio::test(start_paused = true)]
async fn rfc_newlines_inside_quotes() {
    let m = one(
        rfc(json!({"temp":"a,b,c,d,e,f,g"})),
        json!({"payload":"ay,be,\"c has 2\nnew\nlines\",dee,eee,eff,gee"}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!({"a":"ay","b":"be","c":"c has 2\nnew\nlines","d":"dee","e":"eee","f":"eff","g":"gee"})
    );
}

/// should be able to use the first line as a template
#[tokio::test(start_paused = true)]
async fn first_line_template_with_blank_line() {
    for cfg in [
        json!({"temp":"a,b,c,d","hdrin":true}),
        rfc(json!({"temp":"a,b,c,d","hdrin":true})),
    ] {
        let mut h = start(cfg).await;
        h.send_json("n1", json!({"payload":"w,x,y,z\n1,2,3,4\n\n5,6,7,8"}))
            .await;
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":1,"x":2,"y":3,"z":4}));
        assert_eq!(parts(&m), (json!(0), json!(2)));
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":5,"x":6,"y":7,"z":8}));
        assert_eq!(parts(&m), (json!(1), json!(2)));
        assert_eq!(m["parts"]["id"], m["_msgid"]);
    }
}

/// should be able to output multiple lines as one array
#[tokio::test(start_paused = true)]
async fn multiple_lines_as_one_array() {
    for cfg in [
        json!({"temp":"a,b,c,d","multi":"yes"}),
        rfc(json!({"temp":"a,b,c,d","multi":"yes"})),
    ] {
        let m = one(
            cfg,
            json!({"payload":"1,2,3,4\n5,-6,07,+8\n9,0,a,b\nc,d,e,f"}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!([{"a":1,"b":2,"c":3,"d":4},{"a":5,"b":-6,"c":"07","d":"+8"},{"a":9,"b":0,"c":"a","d":"b"},{"a":"c","b":"d","c":"e","d":"f"}])
        );
        assert_eq!(m["columns"], json!("a,b,c,d"));
        assert!(m.get("parts").is_none());
    }
}

/// should be able to create an array from multiple parts
#[tokio::test(start_paused = true)]
async fn array_from_multiple_parts() {
    for cfg in [
        json!({"temp":"","hdrin":true,"multi":"mult"}),
        rfc(json!({"temp":"","hdrin":true,"multi":"mult"})),
    ] {
        let mut h = start(cfg).await;
        for (i, p) in ["a,b,c", "1,2,3", "4,5,6"].iter().enumerate() {
            h.send_json(
                "n1",
                json!({"payload":p,"parts":{"index":i,"ch":"\n","type":"string","id":"1"}}),
            )
            .await;
        }
        h.send_json("n1", json!({"payload":"7,8,9","parts":{"index":3,"count":4,"ch":"\n","type":"string","id":"1"}})).await;
        let m = h.recv_json("h").await;
        assert_eq!(
            m["payload"],
            json!([{"a":1,"b":2,"c":3},{"a":4,"b":5,"c":6},{"a":7,"b":8,"c":9}])
        );
        assert_eq!(m["columns"], json!("a,b,c"));
        assert!(m.get("parts").is_none());
    }
}

/// should be able to output multiple objects as an array from an input of parts
#[tokio::test(start_paused = true)]
async fn array_from_a_multi_line_part() {
    for cfg in [
        json!({"temp":"","hdrin":true,"multi":"yes"}),
        rfc(json!({"temp":"","hdrin":true,"multi":"yes"})),
    ] {
        let m = one(
            cfg,
            json!({"payload":"Col1,Col2\nV1,V2\nV3,V4\nV5,V6","topic":"","parts":{"id":"3af07e18.865652","type":"array","count":2,"len":1,"index":0}}),
        )
        .await;
        assert_eq!(
            m["payload"],
            json!([{"Col1":"V1","Col2":"V2"},{"Col1":"V3","Col2":"V4"},{"Col1":"V5","Col2":"V6"}])
        );
        assert_eq!(m["columns"], json!("Col1,Col2"));
        assert!(m.get("parts").is_some());
    }
}

/// should handle numbers in strings but not IP addresses
#[tokio::test(start_paused = true)]
async fn ip_addresses_stay_text() {
    for cfg in [
        json!({"temp":"a,b,c,d,e"}),
        rfc(json!({"temp":"a,b,c,d,e"})),
    ] {
        let m = one(cfg, json!({"payload":"a,127.0.0.1,56.7,-32.8,+76.22C"})).await;
        assert_eq!(
            m["payload"],
            json!({"a":"a","b":"127.0.0.1","c":56.7,"d":-32.8,"e":"+76.22C"})
        );
    }
}

/// should preserve parts property
#[tokio::test(start_paused = true)]
async fn incoming_parts_are_kept() {
    for cfg in [json!({"temp":"a,b,c,d"}), rfc(json!({"temp":"a,b,c,d"}))] {
        let m = one(
            cfg,
            json!({"payload":"1,2,3,4\n","parts":{"id":"X","index":3,"count":4}}),
        )
        .await;
        assert_eq!(m["payload"], json!({"a":1,"b":2,"c":3,"d":4}));
        assert_eq!(m["parts"], json!({"id":"X","index":3,"count":4}));
        assert_eq!(m["complete"], json!(true));
    }
}

/// should be able to use the first of multiple parts as a template if parts are present
#[tokio::test(start_paused = true)]
async fn first_part_is_the_template() {
    for cfg in [
        json!({"temp":"","hdrin":true}),
        rfc(json!({"temp":"","hdrin":true})),
    ] {
        let mut h = start(cfg).await;
        for (i, p) in ["w,x,y,z\n", "1,2,3,4\n", "5,6,7,8\n"].iter().enumerate() {
            h.send_json(
                "n1",
                json!({"payload":p,"parts":{"id":"X","index":i,"count":3}}),
            )
            .await;
        }
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":1,"x":2,"y":3,"z":4}));
        assert_eq!(parts(&m), (json!(0), json!(2)));
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":5,"x":6,"y":7,"z":8}));
        assert_eq!(parts(&m), (json!(1), json!(2)));
    }
}

/// should skip several lines from start if requested
#[tokio::test(start_paused = true)]
async fn skip_lines() {
    for cfg in [
        json!({"temp":"a,b,c,d","skip":2}),
        rfc(json!({"temp":"a,b,c,d","skip":2})),
    ] {
        let m = one(cfg, json!({"payload":"1,2,3,4\n5,6,7,8\n9,0,A,B\n"})).await;
        assert_eq!(m["payload"], json!({"a":9,"b":0,"c":"A","d":"B"}));
        assert_eq!(parts(&m), (json!(0), json!(1)));
    }
}

/// should skip several lines from start then use next line as a template
#[tokio::test(start_paused = true)]
async fn skip_then_header() {
    for cfg in [
        json!({"temp":"a,b,c,d","hdrin":true,"skip":2}),
        rfc(json!({"temp":"a,b,c,d","hdrin":true,"skip":2})),
    ] {
        let m = one(
            cfg,
            json!({"payload":"1,2,3,4\n5,6,7,8\n9,0,A,B\nC,D,E,F\n"}),
        )
        .await;
        assert_eq!(m["payload"], json!({"9":"C","0":"D","A":"E","B":"F"}));
    }
}

/// should skip several lines from start and correct parts
#[tokio::test(start_paused = true)]
async fn skip_and_count_parts() {
    for cfg in [
        json!({"temp":"a,b,c,d","skip":2}),
        rfc(json!({"temp":"a,b,c,d","skip":2})),
    ] {
        let mut h = start(cfg).await;
        h.send_json(
            "n1",
            json!({"payload":"1,2,3,4\n5,6,7,8\n9,0,A,B\nC,D,E,F\n"}),
        )
        .await;
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"a":9,"b":0,"c":"A","d":"B"}));
        assert_eq!(parts(&m), (json!(0), json!(2)));
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"a":"C","b":"D","c":"E","d":"F"}));
        assert_eq!(parts(&m), (json!(1), json!(2)));
    }
}

/// should be able to skip and then use the first of multiple parts as a template if parts are present
#[tokio::test(start_paused = true)]
async fn skip_parts_then_header_part() {
    for cfg in [
        json!({"temp":"","hdrin":true,"skip":2}),
        rfc(json!({"temp":"","hdrin":true,"skip":2})),
    ] {
        let mut h = start(cfg).await;
        for (i, p) in ["foo\n", "bar\n", "w,x,y,z\n", "1,2,3,4\n", "5,6,7,8\n"]
            .iter()
            .enumerate()
        {
            h.send_json(
                "n1",
                json!({"payload":p,"parts":{"id":"X","index":i,"count":5}}),
            )
            .await;
        }
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":1,"x":2,"y":3,"z":4}));
        assert_eq!(m["columns"], json!("w,x,y,z"));
        assert_eq!(parts(&m), (json!(0), json!(2)));
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!({"w":5,"x":6,"y":7,"z":8}));
        assert_eq!(parts(&m), (json!(1), json!(2)));
        assert_eq!(m["complete"], json!(true));
    }
}

// ---- json object to csv ----

/// should convert a simple object back to a csv
#[tokio::test(start_paused = true)]
async fn object_to_csv_with_template() {
    let payload = json!({"e":0,"d":1,"b":"foo","c":true,"a":4,"f":"Hello\nWorld","i":"undefined","j":null,"k":"null"});
    let m = one(
        json!({"temp":"a,b,c,,e,f,g,h,i,j,k"}),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!("4,foo,true,,0,\"Hello\nWorld\",,,undefined,null,null\n")
    );
    let m = one(
        rfc(json!({"temp":"a,b,c,,e,f,g,h,i,j,k"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!("4,foo,true,,0,\"Hello\nWorld\",,,undefined,null,null\r\n")
    );
}

/// should convert a simple object back to a csv with no template
#[tokio::test(start_paused = true)]
async fn object_to_csv_without_template() {
    let payload =
        json!({"d":1,"b":"foo","c":"ba\"r","a":"di,ng","f":"undefined","g":null,"h":"null"});
    let mut h = start(json!({"temp":" "})).await;
    h.send_json("n1", json!({"payload":payload})).await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!("1,foo,\"ba\"\"r\",\"di,ng\",undefined,null\n")
    );
    assert!(
        warnings(&mut h).contains(&"No columns template specified for object -> CSV.".to_string())
    );
    let m = one(rfc(json!({"temp":""})), json!({"payload":payload})).await;
    assert_eq!(
        m["payload"],
        json!("1,foo,\"ba\"\"r\",\"di,ng\",undefined,null\r\n")
    );
}

/// should convert a simple object back to a tsv using a tab as a separator
#[tokio::test(start_paused = true)]
async fn object_to_tsv() {
    let payload = json!({"d":1,"b":"foo","c":"ba\"r","a":"di,ng"});
    let m = one(json!({"temp":"","sep":"\t"}), json!({"payload":payload})).await;
    assert_eq!(m["payload"], json!("1\tfoo\t\"ba\"\"r\"\tdi,ng\n"));
    let m = one(
        rfc(json!({"temp":"","sep":"\t","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("1\tfoo\t\"ba\"\"r\"\tdi,ng\n"));
    assert_eq!(m["columns"], json!("d,b,c,a"));
}

/// should convert a simple object back to a tsv with headers using a tab as a separator
#[tokio::test(start_paused = true)]
async fn rfc_object_to_tsv_with_headers() {
    let payload = json!({"d":1,"b":"foo","c":"ba\"r","a":"di,ng"});
    let m = one(
        rfc(json!({"temp":"","sep":"\t","ret":"\\n","hdrout":"all"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!("d\tb\tc\ta\n1\tfoo\t\"ba\"\"r\"\tdi,ng\n")
    );
    assert_eq!(m["columns"], json!("d,b,c,a"));
}

/// should handle a template with spaces in the property names
#[tokio::test(start_paused = true)]
async fn template_with_spaces_in_names() {
    let payload = json!({"e":0,"d":1,"b o":"foo","c p":true,"a":4});
    let m = one(json!({"temp":"a,b o,c p,,e"}), json!({"payload":payload})).await;
    assert_eq!(m["payload"], json!("4,foo,true,,0\n"));
    let m = one(
        rfc(json!({"temp":"a,b o,c p,,e","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("4,foo,true,,0\n"));
    assert_eq!(m["columns"], json!("a,b o,c p,e"));
}

/// should handle a template with quotes in the property names
#[tokio::test(start_paused = true)]
async fn quotes_in_property_names() {
    let payload = json!([{"a\"a":"A1","b'b":"B1"},{"a\"a":"A2","b'b":"B2"}]);
    let m = one(
        json!({"temp":"","hdrout":"all"}),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("a\"a,b'b\nA1,B1\nA2,B2\n"));
    let m = one(
        rfc(json!({"temp":"","hdrout":"all","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("\"a\"\"a\",b'b\nA1,B1\nA2,B2\n"));
    assert_eq!(m["columns"], json!("\"a\"\"a\",b'b"));
}

/// should convert an array of objects to a multi-line csv
#[tokio::test(start_paused = true)]
async fn array_of_objects_to_csv() {
    let payload = json!([{"d":1,"b":3,"c":2,"a":4},{"d":4,"a":1,"c":3,"b":2}]);
    for cfg in [
        json!({"temp":"a,d,c,b"}),
        rfc(json!({"temp":"a,d,c,b","ret":"\\n"})),
    ] {
        assert_eq!(
            one(cfg, json!({"payload":payload})).await["payload"],
            json!("4,1,2,3\n1,4,3,2\n")
        );
    }
}

/// should convert an array of objects to a multi-line csv and add a header
#[tokio::test(start_paused = true)]
async fn array_of_objects_with_header() {
    let payload = json!([{"d":1,"b":3,"c":2,"a":4},{"d":"a\nb","a":1,"c":3,"b":2}]);
    for cfg in [
        json!({"temp":"a,b,c,d","hdrout":"all"}),
        rfc(json!({"temp":"a,b,c,d","hdrout":"all","ret":"\\n"})),
    ] {
        assert_eq!(
            one(cfg, json!({"payload":payload})).await["payload"],
            json!("a,b,c,d\n4,3,2,1\n1,2,3,\"a\nb\"\n")
        );
    }
}

/// should convert an array of objects to a multi-line csv without a template
#[tokio::test(start_paused = true)]
async fn array_of_objects_without_template() {
    let payload = json!([{"d":1,"b":3,"c":2,"a":4},{"d":4,"a":1,"c":3,"b":2}]);
    let m = one(json!({"temp":""}), json!({"payload":payload})).await;
    assert_eq!(m["payload"], json!("1,3,2,4\n4,2,3,1\n"));
    assert_eq!(m["columns"], json!(""));
    let m = one(
        rfc(json!({"temp":"","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("1,3,2,4\n4,2,3,1\n"));
    assert_eq!(m["columns"], json!("d,b,c,a"));
}

/// should convert an array of objects to a multi-line csv without a template and with a header
#[tokio::test(start_paused = true)]
async fn array_of_objects_without_template_with_header() {
    let payload = json!([{"d":1,"b":3,"c":2,"a":4},{"d":4,"a":1,"c":3,"b":"f\ng"}]);
    for cfg in [
        json!({"temp":"","hdrout":"all"}),
        rfc(json!({"temp":"","hdrout":"all","ret":"\\n"})),
    ] {
        assert_eq!(
            one(cfg, json!({"payload":payload})).await["payload"],
            json!("d,b,c,a\n1,3,2,4\n4,\"f\ng\",3,1\n")
        );
    }
}

/// should convert a simple array back to a csv
#[tokio::test(start_paused = true)]
async fn simple_array_to_csv() {
    let payload = json!(["", 0, 1, "foo", "ba\"r", "di,ng", "fa\nba"]);
    let m = one(json!({"temp":"a,b,c,d"}), json!({"payload":payload})).await;
    assert_eq!(
        m["payload"],
        json!(",0,1,foo,\"ba\"\"r\",\"di,ng\",\"fa\nba\"\n")
    );
    let m = one(
        rfc(json!({"temp":"a,b,c,d","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!(",0,1,foo\n"));
    assert_eq!(m["columns"], json!("a,b,c,d"));
}

/// should convert an array of arrays back to a multi-line csv
#[tokio::test(start_paused = true)]
async fn array_of_arrays_to_csv() {
    let payload = json!([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]);
    let m = one(json!({"temp":"a,b,c,d"}), json!({"payload":payload})).await;
    assert_eq!(m["payload"], json!("0,1,2,3,4\n4,3,2,1,0\n"));
    let m = one(
        rfc(json!({"temp":"a,b,c,d","ret":"\\n"})),
        json!({"payload":payload}),
    )
    .await;
    assert_eq!(m["payload"], json!("0,1,2,3\n4,3,2,1\n"));
}

/// should be able to include column names as first row
#[tokio::test(start_paused = true)]
async fn header_row_first() {
    for cfg in [
        json!({"temp":"a,b,c,d","hdrout":true,"ret":"\r\n"}),
        rfc(json!({"temp":"a,b,c,d","hdrout":true,"ret":"\r\n"})),
    ] {
        let m = one(cfg, json!({"payload":[{"d":1,"b":3,"c":2,"a":4}]})).await;
        assert_eq!(m["payload"], json!("a,b,c,d\r\n4,3,2,1\r\n"));
    }
}

/// should be able to include column names as first row, and missing properties
#[tokio::test(start_paused = true)]
async fn header_row_and_missing_properties() {
    let payload = json!([{"col1":"H1","col2":"H2","col3":"H3","col4":"H4"},{"col1":"A","col2":"B"},{"col1":"A","col3":"C"},{"col1":"A","col4":"D\nE"}]);
    for cfg in [
        json!({"hdrout":true,"ret":"\r\n"}),
        rfc(json!({"hdrout":true,"ret":"\r\n"})),
    ] {
        let m = one(cfg, json!({"payload":payload})).await;
        assert_eq!(
            m["payload"],
            json!("col1,col2,col3,col4\r\nH1,H2,H3,H4\r\nA,B,,\r\nA,,C,\r\nA,,,\"D\nE\"\r\n")
        );
    }
}

/// should be able to pass in column names
#[tokio::test(start_paused = true)]
async fn columns_from_the_message() {
    for cfg in [
        json!({"temp":"","hdrout":"once","ret":"\r\n"}),
        rfc(json!({"temp":"","hdrout":"once","ret":"\r\n"})),
    ] {
        let mut h = start(cfg).await;
        let row = json!([{"d":1,"b":3,"c":2,"a":4}]);
        h.send_json(
            "n1",
            json!({"payload":row,"columns":"a,,b,a","parts":{"index":0}}),
        )
        .await;
        h.send_json("n1", json!({"payload":row,"parts":{"index":1}}))
            .await;
        h.send_json("n1", json!({"payload":row,"parts":{"index":2}}))
            .await;
        assert_eq!(
            h.recv_json("h").await["payload"],
            json!("a,,b,a\r\n4,,3,4\r\n")
        );
        assert_eq!(h.recv_json("h").await["payload"], json!("4,,3,4\r\n"));
        assert_eq!(h.recv_json("h").await["payload"], json!("4,,3,4\r\n"));
        // msg.reset sends the header again.
        h.send_json("n1", json!({"reset":true})).await;
        h.send_json("n1", json!({"payload":row,"columns":"a,b"}))
            .await;
        assert_eq!(h.recv_json("h").await["payload"], json!("a,b\r\n4,3\r\n"));
    }
}

/// should be able to pass in column names - with payload as an array
#[tokio::test(start_paused = true)]
async fn columns_from_the_message_with_array_payload() {
    let row = json!({"d":1,"b":3,"c":2,"a":4});
    for cfg in [
        json!({"hdrout":"once","ret":"\r\n"}),
        rfc(json!({"hdrout":"once","ret":"\r\n"})),
    ] {
        let m = one(cfg, json!({"payload":[row, row, row],"columns":"a,,b,a"})).await;
        assert_eq!(
            m["payload"],
            json!("a,,b,a\r\n4,,3,4\r\n4,,3,4\r\n4,,3,4\r\n")
        );
    }
}

/// should handle quotes and sub-properties
#[tokio::test(start_paused = true)]
async fn quotes_and_sub_properties() {
    let payload =
        json!({"d":{"sub":"object"},"b":"text,with,commas","c":"This \"is\" a banana","a":{}});
    for cfg in [
        json!({"temp":"a,b,c,d"}),
        rfc(json!({"temp":"a,b,c,d","ret":"\\n"})),
    ] {
        let m = one(cfg, json!({"payload":payload})).await;
        assert_eq!(
            m["payload"],
            json!(
                "{},\"text,with,commas\",\"This \"\"is\"\" a banana\",\"{\"\"sub\"\":\"\"object\"\"}\"\n"
            )
        );
    }
}

// ---- other behaviour ----

/// should just pass through if no payload provided
#[tokio::test(start_paused = true)]
async fn passes_messages_without_payload() {
    for cfg in [json!({"temp":"a,b,c,d"}), rfc(json!({"temp":"a,b,c,d"}))] {
        let m = one(cfg, json!({"topic":{"d":1,"b":3,"c":2,"a":4}})).await;
        assert_eq!(m["topic"], json!({"d":1,"b":3,"c":2,"a":4}));
        assert!(m.get("payload").is_none());
    }
}

/// should warn if provided a number or boolean
#[tokio::test(start_paused = true)]
async fn legacy_warns_on_numbers_and_booleans() {
    let mut h = start(json!({"temp":"a,b,c,d"})).await;
    h.send_json("n1", json!({"payload":1})).await;
    h.send_json("n1", json!({"payload":true})).await;
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    let w = warnings(&mut h);
    assert_eq!(
        w.iter()
            .filter(|t| *t == "This node only handles CSV strings or js objects.")
            .count(),
        2
    );
}

/// should not call done or pass the bad msg through when input causes an error - should throw error and set status
#[tokio::test(start_paused = true)]
async fn rfc_errors_on_numbers() {
    let mut h = Harness::start(json!([
        {"id":"n1","type":"csv","spec":"rfc","temp":"a,b,c,d","wires":[["h"]]},
        {"id":"c","type":"catch","wires":[["hc"]]},
        {"id":"h","type":"helper"},{"id":"hc","type":"helper"}
    ]))
    .await;
    h.send_json("n1", json!({"payload":1})).await;
    let m = h.recv_json("hc").await;
    assert_eq!(
        m["error"]["message"],
        json!("This node only handles CSV strings or js objects.")
    );
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    let red = h.drain_events().into_iter().any(|e| matches!(e, RuntimeEvent::Status { status, .. } if status.fill.as_deref() == Some("red")));
    assert!(red);
}

/// Conformance `csv/parse_columns`: legacy mode keeps a quoted separator as data.
#[tokio::test(start_paused = true)]
async fn legacy_quoted_separator_in_array_mode() {
    let cfg = json!({"spec":"","sep":",","hdrin":"","hdrout":"none","multi":"mult","ret":"\\n","temp":"p,q","skip":"0","strings":true});
    let m = one(cfg, json!({"payload":"1,\"a,b\"\n2,c\n"})).await;
    assert_eq!(m["payload"], json!([{"p":1,"q":"a,b"},{"p":2,"q":"c"}]));
}

/// A line that starts with a separator throws in legacy mode, as upstream does.
#[tokio::test(start_paused = true)]
async fn legacy_leading_separator_is_an_error() {
    let mut h = Harness::start(json!([
        {"id":"n1","type":"csv","temp":"a,b","wires":[["h"]]},
        {"id":"c","type":"catch","wires":[["hc"]]},
        {"id":"h","type":"helper"},{"id":"hc","type":"helper"}
    ]))
    .await;
    h.send_json("n1", json!({"payload":",1"})).await;
    let m = h.recv_json("hc").await;
    assert_eq!(
        m["error"]["message"],
        json!("Cannot read properties of undefined (reading 'includes')")
    );
}
