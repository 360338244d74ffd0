//! robustness.md "Secrets": the API key shows in no output, file, error or `Debug`, in
//! success and in every failure path, at the highest verbosity.

use iamsim_vultr::fake::{Fault, FaultAction};
use iamsim_vultr::{ApiKey, Client, ClientOptions};

use crate::support::{options, small, start, SENTINEL};

fn status(status: u16, retry_after: Option<&str>) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: retry_after.map(str::to_string),
        body: None,
    }
}

/// R-SEC-03: `Debug` of the key, the client and errors shows `[REDACTED]`, never the key.
#[test]
fn debug_is_redacted() {
    let key = ApiKey::new(SENTINEL).unwrap();
    let text = format!("{key:?}");
    assert!(
        text.contains("[REDACTED]") && !text.contains(SENTINEL),
        "{text}"
    );
    let server = start(small(), vec![Fault::on("*", status(401, None))]);
    let mut client = Client::new(key, options(&server)).unwrap();
    let text = format!("{client:?}");
    assert!(
        text.contains("[REDACTED]") && !text.contains(SENTINEL),
        "{text}"
    );
    let e = client.get_json("/users").unwrap_err();
    for text in [format!("{e:?}"), format!("{e}"), iamsim_vultr::chain(&e)] {
        assert!(!text.contains(SENTINEL), "{text}");
    }
    let options = ClientOptions::default();
    assert!(!format!("{options:?}").contains(SENTINEL));
}
