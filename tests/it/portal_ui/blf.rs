//! The BLF pages: the admin's grants (grant, revoke) and a user's monitor list, where only
//! granted colleagues can be added (the rule's refusal shown by the field); roles and another
//! tenant's users (404).

use autoprov::admin::UserInput;
use autoprov::model::User;
use reqwest::StatusCode;

use super::sites::error_by;
use super::*;

async fn user(p: &Portal, first: &str, extension: &str) -> User {
    p.server
        .app
        .admin
        .user_add(
            p.acme.id,
            &UserInput {
                first_name: first.into(),
                last_name: "Test".into(),
                extension: Some(extension.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// A monitor list as its users' names.
fn names(list: Vec<User>) -> Vec<String> {
    list.into_iter().map(|u| u.display_name()).collect()
}

#[tokio::test]
async fn issue_14_blf_grants_and_monitor_lists_through_the_rule() {
    let p = Portal::start().await;
    let bob = user(&p, "Bob", "201").await;
    let carol = user(&p, "Carol", "202").await;
    let dave = user(&p, "Dave", "203").await;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let blf = format!("/t/{}/blf", p.acme.id.0);
    let (status, _, body) = p.get(Some(&sess), &blf).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("No grants yet"), "{body}");
    // Carol may be watched by Bob; Dave by anyone.
    let (c, b, d) = (
        carol.id.0.to_string(),
        bob.id.0.to_string(),
        dave.id.0.to_string(),
    );
    let form = [
        ("csrf", csrf),
        ("watched", c.as_str()),
        ("watcher", b.as_str()),
    ];
    let (status, _, _) = p.post(Some(&sess), &blf, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let form = [("csrf", csrf), ("watched", d.as_str()), ("watcher", "")];
    let (status, _, _) = p.post(Some(&sess), &blf, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Nobody watches themselves: by the watcher field.
    let form = [
        ("csrf", csrf),
        ("watched", b.as_str()),
        ("watcher", b.as_str()),
    ];
    let (status, _, body) = p.post(Some(&sess), &blf, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "watcher", "cannot monitor themselves");
    let (_, _, body) = p.get(Some(&sess), &blf).await;
    assert!(
        body.contains("Carol Test") && body.contains("anyone"),
        "{body}"
    );

    // Bob's list: Carol and Dave can be added; Eve (not granted) is refused by the rule.
    let bobs = format!("{blf}/users/{b}");
    for who in [&c, &d] {
        let (status, _, body) = p
            .post(Some(&sess), &bobs, &[("csrf", csrf), ("watched", who)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let eve = user(&p, "Eve", "204").await.id.0.to_string();
    let (status, _, body) = p
        .post(Some(&sess), &bobs, &[("csrf", csrf), ("watched", &eve)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "watched", "an admin must grant it first");
    let admin = &p.server.app.admin;
    assert_eq!(
        names(admin.monitor_list(p.acme.id, &bob).await.unwrap()),
        ["Carol Test", "Dave Test"]
    );
    // Carol is granted to Bob only: Dave may not add her.
    let daves = format!("{blf}/users/{d}");
    let (status, _, _) = p
        .post(Some(&sess), &daves, &[("csrf", csrf), ("watched", &c)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Removing Dave from Bob's list, then revoking Carol's grant: the list is empty.
    let remove = format!("{bobs}/monitors/{d}/remove");
    let (status, _, _) = p.post(Some(&sess), &remove, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let grant = admin.blf_grants(p.acme.id).await.unwrap();
    let carols = grant.iter().find(|g| g.watched == carol.id).unwrap().id;
    let revoke = format!("{blf}/grants/{carols}/revoke");
    let (status, _, _) = p.post(Some(&sess), &revoke, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin
        .monitor_list(p.acme.id, &bob)
        .await
        .unwrap()
        .is_empty());
    let (_, _, body) = p.get(Some(&sess), &bobs).await;
    assert!(body.contains("Nobody on this monitor list"), "{body}");
    // Without CSRF: refused.
    let (status, _, _) = p.post(Some(&sess), &bobs, &[("watched", &d)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issue_14_blf_roles_and_another_tenants_users_are_404() {
    let p = Portal::start().await;
    let bob = user(&p, "Bob", "201").await;
    let other = p.session(OTHER_ADMIN).await;
    let blf = format!("/t/{}/blf", p.acme.id.0);
    let (status, _, _) = p.get(Some(&other), &blf).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Acme's user under Other's address.
    let theirs = format!("/t/{}/blf/users/{}", p.other.id.0, bob.id.0);
    let (status, _, _) = p.get(Some(&other), &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &blf).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = p.session(ACME_ADMIN).await;
    let (_, _, body) = p.get(Some(&admin), &blf).await;
    assert!(
        body.contains(&format!("href=\"{}\"", blf.replace('/', "&#x2f;"))),
        "nav item: {body}"
    );
}

/// The admin grants a colleague in the browser, then puts them on a user's monitor list from
/// the BLF page's link, and takes them off again.
#[tokio::test]
async fn issue_14_browser_blf_grant_and_monitor_list() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("blf").await else {
        return;
    };
    let p = &b.portal;
    let bob = user(p, "Bob", "201").await;
    let carol = user(p, "Carol", "202").await;
    b.login_as(ACME_ADMIN).await;
    b.go(&format!("/t/{}/blf", p.acme.id.0)).await;
    let c = &b.client;
    let select = |id: &'static str, value: String| async move {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .select_by_value(&value)
            .await
            .unwrap();
    };
    select("new-watched", carol.id.0.to_string()).await;
    select("new-watcher", bob.id.0.to_string()).await;
    b.click("form[action$='#grant'] button[type=submit]").await;
    b.wait_for_text("The grant has been saved.").await;
    b.assert_no_console_errors().await;
    c.find(Locator::LinkText("Bob Test"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Nobody on this monitor list.").await;
    // The picker offers the granted colleague only (not Ada, whom nobody granted).
    let offered = c
        .find(Locator::Id("new-watched"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(offered.trim(), "Carol Test");
    select("new-watched", carol.id.0.to_string()).await;
    b.click("form[action$='#add'] button[type=submit]").await;
    b.wait_for_text("The colleague has been added to the monitor list.")
        .await;
    let table = c
        .find(Locator::Css("tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Carol Test") && table.contains("202"),
        "{table}"
    );
    b.assert_no_console_errors().await;
    b.screenshots("blf-monitors").await;
    let admin = &p.server.app.admin;
    assert_eq!(
        names(admin.monitor_list(p.acme.id, &bob).await.unwrap()),
        ["Carol Test"]
    );
    b.click("button[aria-label='Remove Carol Test']").await;
    b.wait_for_text("The colleague has been removed from the monitor list.")
        .await;
    assert!(admin
        .monitor_list(p.acme.id, &bob)
        .await
        .unwrap()
        .is_empty());
    b.assert_no_console_errors().await;
    b.close().await;
}
