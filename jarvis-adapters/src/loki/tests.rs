use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// A response shaped like Loki 3.x's, with a structured-metadata third element.
const STREAMS: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "streams",
    "result": [
      {
        "stream": {"job": "demo", "service_name": "demo", "level": "error"},
        "values": [
          ["1795413406391000000", "ERROR demo: connection refused"],
          ["1795413405000000123", "WARN demo: retrying", {"trace_id": "abc"}]
        ]
      },
      {
        "stream": {"job": "demo", "level": "info"},
        "values": [["1795413400000000000", "INFO demo: started"]]
      }
    ],
    "stats": {"summary": {"bytesProcessedPerSecond": 1234, "execTime": 0.01}}
  }
}"#;

fn at(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

#[tokio::test]
async fn query_range_sends_nanosecond_integers_and_tenant_and_parses_streams() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/loki/api/v1/query_range"))
        .and(query_param("query", r#"{job="demo"} |= "error""#))
        .and(query_param("start", "1795413300000000000"))
        .and(query_param("end", "1795413406500000000"))
        .and(query_param("limit", "50"))
        .and(query_param("direction", "backward"))
        .and(header("X-Scope-OrgID", "team-a"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(STREAMS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = LokiConfig::new(Url::parse(&server.uri()).unwrap());
    cfg.tenant = Some("team-a".into());
    let client = LokiClient::new(&cfg).unwrap();
    let result = client
        .query_range(&LokiQuery {
            query: r#"{job="demo"} |= "error""#.into(),
            start: at(1_795_413_300_000_000_000),
            end: at(1_795_413_406_500_000_000),
            limit: 50,
            direction: Direction::Backward,
        })
        .await
        .unwrap();
    let streams = result.streams();
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[0].labels["level"], "error");
    assert_eq!(
        streams[0].entries[0].timestamp_ns,
        1_795_413_406_391_000_000
    );
    assert_eq!(
        streams[0].entries[1].timestamp_ns,
        1_795_413_405_000_000_123
    );
    assert_eq!(streams[0].entries[1].line, "WARN demo: retrying");
}

#[tokio::test]
async fn non_2xx_plain_text_body_becomes_http_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            "max entries limit per query exceeded, limit > max_entries_limit (10000 > 5000)\n",
        ))
        .mount(&server)
        .await;
    let client = LokiClient::new(&LokiConfig::new(Url::parse(&server.uri()).unwrap())).unwrap();
    let err = client
        .query_range(&LokiQuery::last(
            "{job=\"demo\"}",
            Utc::now(),
            Duration::from_secs(60),
            10000,
        ))
        .await
        .unwrap_err();
    match &err {
        LokiError::Http { status, message } => {
            assert_eq!(*status, 400);
            assert!(message.contains("max entries limit"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_transient());
}

#[test]
fn matrix_results_parse() {
    let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"level":"error"},"values":[[1795413400,"3"],[1795413460,"5"]]}]}}"#;
    let LokiResult::Matrix(m) = parse_response(body).unwrap() else {
        panic!("not a matrix")
    };
    assert_eq!(
        m[0].points,
        vec![(1_795_413_400.0, 3.0), (1_795_413_460.0, 5.0)]
    );
}

#[test]
fn bad_timestamps_are_rejected() {
    let body = r#"{"status":"success","data":{"resultType":"streams","result":[
        {"stream":{},"values":[["1795413400.5","x"]]}]}}"#;
    assert!(matches!(parse_response(body), Err(LokiError::Invalid(_))));
}

#[test]
fn prompt_rendering_keeps_newest_lines_in_order_within_limits() {
    let LokiResult::Streams(streams) = parse_response(STREAMS).unwrap() else {
        panic!()
    };
    let all = render_for_prompt(&streams, 10, 10_000);
    assert_eq!(all.lines, 3);
    assert_eq!(all.omitted, 0);
    let lines: Vec<_> = all.text.lines().collect();
    assert!(lines[0].ends_with("INFO demo: started"));
    assert!(lines[2].ends_with("ERROR demo: connection refused"));

    let two = render_for_prompt(&streams, 2, 10_000);
    assert_eq!(two.lines, 2);
    assert_eq!(two.omitted, 1);
    assert!(two.text.starts_with("[1 earlier lines omitted]\n"));
    assert!(!two.text.contains("started"));

    let tiny = render_for_prompt(&streams, 10, 60);
    assert_eq!(tiny.lines, 1);
    assert!(tiny.text.contains("connection refused") || tiny.text.contains('…'));
    let body: usize = tiny.text.lines().skip(1).map(|l| l.len() + 1).sum();
    assert!(body <= 60, "{body}");
}
