//! The crawl loses nothing the engine uses: a random organization served by the fake and
//! fetched back gives the same effective permissions, and the same impact of removing a
//! member, as the organization itself.

use iamsim_core::generate::{snapshot, Params, Shape};
use iamsim_core::{Catalogue, Change, Org};
use iamsim_vultr::fake::FakeOptions;
use iamsim_vultr::CrawlOptions;

use crate::support::{fetch_with, options, start_with};

#[test]
fn fetch_then_query_equals_query() {
    let catalogue = Catalogue::bundled();
    for seed in 1..=4u64 {
        let original = snapshot(&Params {
            users: 30,
            groups: 6,
            roles: 6,
            policies: 12,
            actions: 40,
            seed,
            shape: Shape::Classic,
        });
        // Vary what the fake does that the crawl must cope with.
        let fake = FakeOptions {
            list_omits_documents: seed % 2 == 0,
            trusts_name_role_id: seed % 3 == 0,
            max_page_size: Some(1 + seed as usize * 3),
            ..FakeOptions::default()
        };
        let server = start_with(original.clone(), fake);
        let crawl_options = CrawlOptions {
            per_page: 2 + seed as u32,
            root_user: original.organization.root_user_id.clone(),
            ..CrawlOptions::default()
        };
        let crawl = fetch_with(options(&server), &crawl_options)
            .0
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(
            crawl.info.consistent,
            "seed {seed}: {:?}",
            crawl.info.events
        );

        let want = Org::compile(&original, &catalogue).expect("original compiles");
        let got = Org::compile(&crawl.snapshot, &catalogue).expect("fetched compiles");
        let mut checked = 0;
        for user in &original.users {
            let w = want.effective(want.find_user(&user.id).unwrap());
            let g = got.effective(got.find_user(&user.id).unwrap());
            assert_eq!(w, g, "seed {seed}, user {}", user.id);
            checked += 1;
        }
        assert_eq!(checked, 30);
        // The impact of removing the first members of each group.
        for group in &original.groups {
            for member in group.members.iter().take(2) {
                let change = |org: &Org| {
                    org.simulate(&[Change::RemoveMember {
                        group: org.find_group(&group.id).unwrap(),
                        user: org.find_user(member).unwrap(),
                    }])
                    .expect("a member")
                };
                assert_eq!(
                    change(&want),
                    change(&got),
                    "seed {seed}: remove {member} from {}",
                    group.id
                );
            }
        }
    }
}
