//! `--format html`, opened in a real browser: headless Chromium (Debian's `chromium`; `.ci/run`
//! installs it) loads each report of the demo with no console message (a script error or a
//! request the page's Content-Security-Policy refuses would print one), the DOM it builds holds
//! the figures of the JSON report of the same command and no http(s) address, the page's
//! script ran (it makes the table headers focusable), and a screenshot is not blank. Hostile
//! names stay text; big answers are cut to the page's budget, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::formats::commands;
use crate::util::{data, iamsim, temp_file};

/// The browser, or a failure saying how to get it.
fn chromium() -> &'static str {
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["chromium", "chromium-browser"].into_iter().find(|name| {
                Command::new(name)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
        })
        .expect(
            "headless Chromium is needed to test the HTML report: install Debian's `chromium` \
             package (`apt-get install chromium`; .ci/run installs it when missing)",
        )
}

/// What the browser did with a page.
struct Loaded {
    /// The DOM after the page's script ran (`--dump-dom`).
    dom: String,
    /// The console messages (Chromium logs each as `INFO:CONSOLE` on stderr).
    console: Vec<String>,
}

fn browser(args: &[&str], page: &Path) -> std::process::Output {
    // A profile of its own, so that tests running at once do not share one.
    let profile = PathBuf::from(temp_file("profile", "")).with_extension("d");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "chromium failed on {}: {output:?}",
        page.display()
    );
    output
}

fn load(page: &Path) -> Loaded {
    let output = browser(&["--dump-dom"], page);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Loaded {
        dom: String::from_utf8(output.stdout).expect("the DOM is UTF-8"),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

/// A screenshot of the page's first 1280×900 pixels, as PNG bytes.
fn screenshot(page: &Path) -> Vec<u8> {
    let png = PathBuf::from(temp_file("shot.png", ""));
    browser(
        &[
            "--hide-scrollbars",
            "--window-size=1280,900",
            &format!("--screenshot={}", png.display()),
        ],
        page,
    );
    std::fs::read(&png).expect("the screenshot was written")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// For each PNG: how many distinct colours it shows, and the share of its pixels that differ
/// from the top-left one, as the browser decodes it (drawn on a canvas; a `data:` image does
/// not taint it), so that no PNG decoder is needed here. One browser run for all.
fn pixels(pngs: &[Vec<u8>]) -> Vec<(usize, f64)> {
    let images: String = pngs
        .iter()
        .map(|png| format!("<img src=\"data:image/png;base64,{}\">", base64(png)))
        .collect();
    let page = format!(
        r#"<!DOCTYPE html><html><body>{images}<script>
window.addEventListener('load', function () {{
  document.querySelectorAll('img').forEach(function (img) {{
    var canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    var ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    var data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    var colours = new Set(), other = 0;
    for (var i = 0; i < data.length; i += 4) {{
      colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) other++;
    }}
    var out = document.createElement('p');
    out.className = 'result';
    out.textContent = colours.size + ' ' + (other / Math.max(1, data.length / 4));
    document.body.appendChild(out);
  }});
}});
</script></body></html>"#
    );
    let path = PathBuf::from(temp_file("pixels.html", page));
    let loaded = load(&path);
    let results: Vec<(usize, f64)> = loaded
        .dom
        .split("<p class=\"result\">")
        .skip(1)
        .map(|rest| {
            let text = rest.split('<').next().unwrap_or_default();
            let (colours, share) = text.split_once(' ').expect("two numbers");
            (colours.parse().unwrap(), share.parse().unwrap())
        })
        .collect();
    assert_eq!(
        results.len(),
        pngs.len(),
        "the pixel count ran: {:?}",
        loaded.console
    );
    results
}

/// The `data-figure` values of a page: `(name, value)`.
fn figures(dom: &str) -> Vec<(String, String)> {
    dom.split("data-figure=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\">").expect("a figure");
            let value = rest.split('<').next().unwrap_or_default();
            (name.to_string(), value.to_string())
        })
        .collect()
}

fn len(value: &Value) -> String {
    value.as_array().map_or(0, Vec::len).to_string()
}

/// The figures the page must show, from the JSON report of the same command.
fn expected_figures(command: &str, json: &Value) -> Vec<(String, String)> {
    let sum = |list: &str| {
        json["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u[list].as_array().unwrap().len())
            .sum::<usize>()
            .to_string()
    };
    let count = |list: &str| {
        json["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| !u[list].as_array().unwrap().is_empty())
            .count()
            .to_string()
    };
    let pairs: Vec<(&str, String)> = match command {
        "effective" => vec![
            ("allowed", len(&json["allowed"])),
            ("denied", len(&json["denied"])),
            ("assumable", len(&json["assumable"])),
        ],
        "explain" => vec![
            ("decision", json["decision"].as_str().unwrap().to_string()),
            ("allow", len(&json["allow"])),
            ("deny", len(&json["deny"])),
        ],
        "impact" => {
            let s = &json["summary"];
            vec![
                ("users_affected", s["users_affected"].to_string()),
                ("users_losing", s["users_losing"].to_string()),
                ("users_gaining", s["users_gaining"].to_string()),
                ("users_reached", s["users_reached"].to_string()),
                ("lost", s["pairs"]["lost"].to_string()),
                ("kept", s["pairs"]["kept"].to_string()),
                ("gained", s["pairs"]["gained"].to_string()),
            ]
        }
        "who-can" => vec![
            ("allowed", len(&json["allowed"])),
            ("denied", len(&json["denied"])),
        ],
        "redundant" => vec![
            ("edges", len(&json["edges"])),
            ("shadowed", len(&json["shadowed"])),
        ],
        "diff" => vec![
            ("users", len(&json["users"])),
            ("losing", count("lost")),
            ("gaining", count("gained")),
            ("lost", sum("lost")),
            ("gained", sum("gained")),
        ],
        other => panic!("no figures for {other}"),
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The emails of the users a report lists (they must all be on the page).
fn emails(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut walk = vec![json];
    while let Some(value) = walk.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(email)) = map.get("email") {
                    out.push(email.clone());
                }
                walk.extend(map.values());
            }
            Value::Array(items) => walk.extend(items),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

fn html_of(args: &[String]) -> String {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--format", "html"]);
    let run = iamsim(&all);
    run.expect_code(0);
    run.stdout
}

#[test]
fn every_report_of_the_demo_in_the_browser() {
    let mut shots = Vec::new();
    for (name, args) in commands() {
        if name.starts_with("rank") {
            continue;
        }
        let html = html_of(&args);
        let page = PathBuf::from(temp_file(&format!("{name}.html"), &html));
        let loaded = load(&page);
        assert!(
            loaded.console.is_empty(),
            "{name}: console: {:#?}",
            loaded.console
        );
        let dom = &loaded.dom;
        assert!(
            !dom.contains("http://") && !dom.contains("https://"),
            "{name}: an address in the DOM"
        );
        // The page's script ran to its end: it makes every sortable header focusable.
        assert!(
            dom.contains("<th tabindex=\"0\""),
            "{name}: the script did not run"
        );

        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--format", "json"]);
        let json = iamsim(&all).raw();
        let command = args[0].as_str();
        let shown = figures(dom);
        for figure in expected_figures(command, &json) {
            assert!(
                shown.contains(&figure),
                "{name}: {figure:?} not in {shown:?}"
            );
        }
        for email in emails(&json) {
            assert!(dom.contains(&email), "{name}: {email} not on the page");
        }

        let png = screenshot(&page);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        shots.push((name, png));
    }
    // A blank page, to show that the measure tells one from a report.
    let blank = PathBuf::from(temp_file(
        "blank.html",
        "<!DOCTYPE html><title>blank</title>",
    ));
    shots.push(("blank", screenshot(&blank)));
    let pngs: Vec<Vec<u8>> = shots.iter().map(|(_, png)| png.clone()).collect();
    for ((name, _), (colours, share)) in shots.iter().zip(pixels(&pngs)) {
        let blank = colours < 50 || share < 0.05;
        assert_eq!(
            blank,
            *name == "blank",
            "{name}: {colours} colours, {share} of the pixels not background"
        );
    }
}

/// The elements a report is made of.
const ALLOWED_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "b", "span", "input",
    "table", "thead", "tbody", "tr", "th", "td", "code", "details", "summary", "ol", "ul", "li",
    "svg", "defs", "marker", "path", "text", "g", "rect", "script", "pre", "!DOCTYPE",
];

/// The text inside each tag of a serialized DOM (`<` to the next `>`), closing tags included;
/// the report's own script (whose text is not escaped) is skipped.
fn tags(dom: &str) -> Vec<&str> {
    let (before, rest) = dom.split_once("<script>").expect("the report's script");
    let after = rest.split_once("</script>").expect("the script ends").1;
    before
        .split('<')
        .skip(1)
        .chain(after.split('<').skip(1))
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .map(|tag| tag.trim_start_matches('/'))
        .collect()
}

#[test]
fn hostile_names_stay_text() {
    let snapshot = data("hostile-html.json");
    let reports: Vec<Vec<&str>> = vec![
        vec!["effective", "--user", "mal@h.example"],
        vec![
            "explain",
            "--user",
            "mal@h.example",
            "--action",
            "compute.instance.Delete",
        ],
        vec!["who-can", "--action", "compute.instance.Read"],
        vec![
            "impact",
            "remove-member",
            "--group",
            "g-evil",
            "--user",
            "u-eve",
        ],
        vec!["impact", "delete-policy", "--policy", "p-</style>"],
        vec!["redundant"],
    ];
    for args in reports {
        let mut all = args.clone();
        all.extend(["--snapshot", &snapshot, "--format", "html"]);
        let run = iamsim(&all);
        run.expect_code(0);
        let html = &run.stdout;
        let what = args.join(" ");
        // In the text the binary wrote: one script, one style, no tag a name brought.
        assert_eq!(html.matches("<script").count(), 1, "{what}");
        assert_eq!(html.matches("</script>").count(), 1, "{what}");
        assert_eq!(html.matches("<style").count(), 1, "{what}");
        assert_eq!(html.matches("</style>").count(), 1, "{what}");
        for tag in ["<img", "<a ", "<svg onload", "<title>Hostile"] {
            assert!(!html.contains(tag), "{what}: {tag}");
        }
        assert!(
            !html
                .chars()
                .any(|c| c.is_control() && c != '\n' || matches!(c, '\u{202e}' | '\u{2028}')),
            "{what}: a control character"
        );

        // In the browser: no script of a name ran, nothing was fetched, nothing hidden.
        let page = PathBuf::from(temp_file("hostile.html", html));
        let loaded = load(&page);
        assert!(loaded.console.is_empty(), "{what}: {:#?}", loaded.console);
        let dom = &loaded.dom;
        // A serialized DOM writes a `<` of text as `&lt;`: every `<` opens a real tag.
        for tag in tags(dom) {
            let name = tag.split([' ', '/']).next().unwrap_or_default();
            assert!(ALLOWED_TAGS.contains(&name), "{what}: a <{tag}> tag");
            for attribute in tag.split(' ').skip(1).filter_map(|t| t.split_once('=')) {
                let name = attribute.0;
                assert!(
                    !name.starts_with("on") && !matches!(name, "href" | "src" | "style"),
                    "{what}: <{tag}>"
                );
            }
        }
        assert_eq!(dom.matches("<script").count(), 1, "{what}");
        assert!(
            dom.contains("<th tabindex=\"0\""),
            "{what}: the script did not run"
        );
    }
}

#[test]
fn a_big_impact_is_cut_to_the_limit_and_says_so() {
    // The demo has several users losing access when compute-admin goes.
    let args = [
        "impact",
        "delete-policy",
        "--policy",
        "compute-admin",
        "--format",
        "html",
        "--limit",
        "1",
    ];
    let run = iamsim(&args);
    run.expect_code(0);
    let json = iamsim(&[
        "impact",
        "delete-policy",
        "--policy",
        "compute-admin",
        "--format",
        "json",
    ])
    .raw();
    let affected = json["summary"]["users_affected"].as_u64().unwrap() as usize;
    assert!(affected > 1, "{json}");
    assert_eq!(run.stdout.matches("<details class=\"user\">").count(), 1);
    assert!(
        run.stdout
            .contains(&format!("data-left-out=\"{}\"", affected - 1)),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--limit 0 lists every user"));
}

#[test]
fn headers_sort_and_the_box_filters() {
    let html = html_of(&[
        "effective".to_string(),
        "--user".to_string(),
        "ana@acme.example".to_string(),
    ]);
    // A probe run after the page's own script: clicks the Action header twice, then types in
    // the filter box, and writes what it saw into the page.
    let probe = r#"<script>
window.addEventListener('load', function () {
  var table = document.getElementById('t1');
  var actions = function () {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[1].textContent; });
  };
  var th = table.tHead.rows[0].cells[1];
  th.click();
  var up = actions();
  th.click();
  var down = actions();
  var input = document.querySelector('input.filter[data-table="t1"]');
  input.value = 'BILLING';
  input.dispatchEvent(new Event('input'));
  var shown = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; }).length;
  var p = document.createElement('p');
  p.id = 'probe';
  p.textContent = JSON.stringify({up: up, down: down, shown: shown, total: table.tBodies[0].rows.length});
  document.body.appendChild(p);
});
</script>
</body>"#;
    let page = PathBuf::from(temp_file("probe.html", html.replace("</body>", probe)));
    let loaded = load(&page);
    assert!(loaded.console.is_empty(), "{:#?}", loaded.console);
    let text = loaded
        .dom
        .split("<p id=\"probe\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("the probe ran")
        .replace("&amp;", "&");
    let seen: Value = serde_json::from_str(&text).expect("the probe's JSON");
    let up: Vec<String> = serde_json::from_value(seen["up"].clone()).unwrap();
    let down: Vec<String> = serde_json::from_value(seen["down"].clone()).unwrap();
    let mut sorted = up.clone();
    sorted.sort_by_key(|a| a.to_lowercase());
    assert_eq!(up, sorted, "ascending on the first click");
    assert_eq!(down, sorted.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(seen["total"], 49);
    // The rows whose text holds "billing", whatever the case.
    let billing = html
        .split("<tr>")
        .filter(|row| row.contains("<td class=\"allow\">") || row.contains("<td class=\"deny\">"))
        .filter(|row| row.to_lowercase().contains("billing"))
        .count();
    assert!(billing > 0);
    assert_eq!(seen["shown"], billing);
}
