//! Call pickup groups, call park groups, schedules and group night forwarding (issue 12,
//! part B; seeds 000 and 001), through the API: each rule with its error answer.

use serde_json::json;

use super::{Admin, Operator, Portal};

/// Adds Grace (pending) and Bob (active, extension 201) through the API.
async fn people(p: &Portal) {
    for (first, last, ext) in [("Grace", "Hopper", "200"), ("Bob", "Builder", "201")] {
        p.post(
            Admin,
            "users",
            json!({ "first_name": first, "last_name": last, "extension": ext }),
        )
        .await
        .is(201);
    }
    p.act(Operator, "users/Bob Builder/activate").await.is(200);
}

/// A user is in at most one pickup group (409 names the group they are in); pending users
/// may join.
#[tokio::test]
async fn a_user_is_in_one_pickup_group_and_pending_users_may_join() {
    let p = Portal::new().await;
    people(&p).await;
    let front = p
        .post(
            Admin,
            "pickup-groups",
            json!({ "name": "Front desk", "members": ["Ada Lovelace", "Grace Hopper"] }),
        )
        .await;
    let body = front.is(201);
    assert_eq!(body["members"][1]["state"], "pending", "{body}");
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Back office", "members": ["Bob Builder", "Grace Hopper"] }),
    )
    .await
    .refused(
        409,
        "Grace Hopper is already in pickup group \"Front desk\"",
    );
    // Replacing the group's own members is no conflict; a name taken is.
    p.put(
        Admin,
        "pickup-groups/Front desk",
        json!({ "name": "Front desk", "members": ["Grace Hopper"] }),
    )
    .await
    .is(200);
    p.post(Admin, "pickup-groups", json!({ "name": "Front desk" }))
        .await
        .refused(409, "already has a pickup group named \"Front desk\"");
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Twice", "members": ["Bob Builder", "Bob Builder"] }),
    )
    .await
    .invalid("members")["detail"]
        .as_str()
        .unwrap()
        .contains("Bob Builder is listed twice")
        .then_some(())
        .expect("names who");
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Ghosts", "members": ["Nobody Here"] }),
    )
    .await
    .invalid("members");
    // Ada left Front desk with the replacement: she may join another now.
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Back office", "members": ["Ada Lovelace"] }),
    )
    .await
    .is(201);
    let list = p.get(Admin, "pickup-groups").await;
    let names: Vec<&str> = list
        .is(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Back office", "Front desk"]);
    p.delete(Admin, "pickup-groups/Back office").await.is(204);
    p.get(Admin, "pickup-groups/Back office").await.is(404);
    // Every change is in the audit trail with the group before and after.
    let trail = p.get(Admin, "audit?entity=pickup-group").await;
    let entries = trail.is(200).as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["delete", "create", "update", "create"],
        "{}",
        trail.body
    );
    assert_eq!(entries[0]["before"]["name"], "Back office");
    assert_eq!(entries[2]["after"]["members"][0]["name"], "Grace Hopper");
}

/// A park group's slots are extensions (a range or a list) free in the tenant's extension
/// plan; once they are, nothing else may take them. Pending users may join.
#[tokio::test]
async fn park_slots_must_be_free_in_the_extension_plan() {
    let p = Portal::new().await;
    people(&p).await;
    p.post(
        Admin,
        "park-groups",
        json!({ "name": "Lot", "members": ["Grace Hopper"], "slots": { "from": "199", "to": "202" } }),
    )
    .await
    .refused(409, "extension 200 is already used by user Grace Hopper");
    p.post(
        Admin,
        "park-groups",
        json!({ "name": "Lot", "slots": { "from": "809", "to": "800" } }),
    )
    .await
    .invalid("slots");
    let lot = p
        .post(
            Admin,
            "park-groups",
            json!({ "name": "Lot", "members": ["Grace Hopper", "Ada Lovelace"], "slots": { "from": "800", "to": "802" } }),
        )
        .await;
    assert_eq!(lot.is(201)["slots"], json!(["800", "801", "802"]));
    // A slot is the group's: another group, a user, cannot have it.
    p.post(
        Admin,
        "park-groups",
        json!({ "name": "Garage", "slots": ["810", "801"] }),
    )
    .await
    .refused(409, "extension 801 is already used by park slot Lot");
    p.patch(Admin, "users/Bob Builder", json!({ "extension": "802" }))
        .await
        .refused(409, "extension 802 is already used by park slot Lot");
    // The group keeps its own slots when it is replaced.
    let again = p
        .put(
            Admin,
            "park-groups/Lot",
            json!({ "name": "Lot", "members": ["Ada Lovelace"], "slots": ["801", "802", "803"] }),
        )
        .await;
    assert_eq!(again.is(200)["slots"], json!(["801", "802", "803"]));
    // The dial plan resolves a slot to its group.
    let plan = p.get(Admin, "dialplan").await;
    let slot = plan.is(200)["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["extension"] == "803")
        .cloned()
        .expect("slot 803 in the plan");
    assert_eq!(
        (
            &slot["owner"]["kind"],
            &slot["owner"]["name"],
            &slot["handling"]["handled_by"]
        ),
        (&json!("park-slot"), &json!("Lot"), &json!("park-slot")),
        "{slot}"
    );
    // Freed by the replacement: 800 is anyone's again.
    p.patch(Admin, "users/Bob Builder", json!({ "extension": "800" }))
        .await
        .is(200);
    p.delete(Admin, "park-groups/Lot").await.is(204);
    p.patch(Admin, "users/Bob Builder", json!({ "extension": "801" }))
        .await
        .is(200);
}

/// Deleting a user removes them from pickup and park groups in the same transaction;
/// deactivating keeps the memberships (seed 001).
#[tokio::test]
async fn deleting_a_user_leaves_the_groups_deactivating_keeps_them() {
    let p = Portal::new().await;
    people(&p).await;
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Front", "members": ["Bob Builder", "Ada Lovelace"] }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "park-groups",
        json!({ "name": "Lot", "members": ["Bob Builder"], "slots": ["800"] }),
    )
    .await
    .is(201);
    p.post(Admin, "users/Bob Builder/deactivate", json!({}))
        .await
        .is(200);
    let front = p.get(Admin, "pickup-groups/Front").await;
    assert_eq!(front.is(200)["members"][0]["state"], "deactivated");
    let lot = p.get(Admin, "park-groups/Lot").await;
    assert_eq!(lot.is(200)["members"].as_array().unwrap().len(), 1);
    p.delete(Admin, "users/Bob Builder").await.is(204);
    let front = p.get(Admin, "pickup-groups/Front").await;
    assert_eq!(
        front.is(200)["members"],
        json!([{ "user_id": front.body["members"][0]["user_id"], "name": "Ada Lovelace",
                 "state": "active", "extension": "3456", "number": "+4930123456", "weight": null }])
    );
    let lot = p.get(Admin, "park-groups/Lot").await;
    assert_eq!(lot.is(200)["members"], json!([]));
    // The deletion's audit entry is the user's; the groups' rows went in its transaction.
    let trail = p.get(Admin, "audit?entity=user&action=delete").await;
    assert_eq!(trail.is(200).as_array().unwrap().len(), 1);
}

/// Opening hours: no overlapping ranges on a day (the error names the day and both ranges);
/// holiday lists: dates and ranges, optionally every year.
#[tokio::test]
async fn schedules_refuse_overlaps_and_bad_dates() {
    let p = Portal::new().await;
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Office", "hours": { "tuesday": ["08:00-12:00", "11:30-17:00"] } }),
    )
    .await
    .refused(422, "tuesday: 08:00-12:00 overlaps 11:30-17:00");
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Office", "hours": { "tuesday": ["17:00-08:00"] } }),
    )
    .await
    .refused(422, "ends before it starts");
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Office", "hours": { "funday": ["08:00-12:00"] } }),
    )
    .await
    .invalid("funday");
    let office = p
        .post(
            Admin,
            "schedules",
            json!({ "name": "Office", "hours": { "monday": ["13:00-17:00", "08:00-12:00"] } }),
        )
        .await;
    let body = office.is(201);
    assert_eq!(body["kind"], "opening-hours");
    assert_eq!(
        body["hours"]["monday"],
        json!(["08:00-12:00", "13:00-17:00"])
    );
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Feiertage", "holidays": [{ "from": "2026-12-26", "to": "2026-12-24" }] }),
    )
    .await
    .refused(422, "2026-12-24 is before 2026-12-26");
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Feiertage", "holidays": [{ "date": "1.5." }] }),
    )
    .await
    .invalid("holidays");
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Both", "hours": {}, "holidays": [{ "date": "2026-05-01" }] }),
    )
    .await
    .refused(422, "opening hours or holidays, not both");
    let holidays = p
        .post(
            Admin,
            "schedules",
            json!({ "name": "Feiertage", "holidays": [
                { "date": "2026-05-01", "every_year": true },
                { "from": "2026-12-24", "to": "2027-01-01", "every_year": true }
            ] }),
        )
        .await;
    assert_eq!(holidays.is(201)["kind"], "holidays");
    p.put(
        Admin,
        "schedules/Feiertage",
        json!({ "name": "Feiertage", "hours": { "monday": ["08:00-12:00"] } }),
    )
    .await
    .refused(422, "a holiday list holds no opening hours");
    p.put(
        Admin,
        "schedules/Feiertage",
        json!({ "name": "Feiertage", "kind": "opening-hours" }),
    )
    .await
    .refused(422, "holds holidays; its kind cannot change");
    // A replacement keeps the kind: an empty list clears the holidays.
    let cleared = p
        .put(Admin, "schedules/Feiertage", json!({ "name": "Feiertage" }))
        .await;
    assert_eq!(cleared.is(200)["kind"], "holidays");
}

/// Night forwarding per tenant and site: off / on / automatic (outside the opening hours, on
/// holidays), to a group voicemail or an auto-attendant; GET says whether it is in force and
/// until when, in the site's zone, across a DST change.
#[tokio::test]
async fn night_service_follows_the_schedule_in_the_sites_zone() {
    let p = Portal::new().await;
    let day = || json!(["08:00-18:00"]);
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Office", "hours": { "monday": day(), "tuesday": day(),
                "wednesday": day(), "thursday": day(), "friday": day() } }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "schedules",
        json!({ "name": "Feiertage", "holidays": [{ "date": "2026-05-01", "every_year": true }] }),
    )
    .await
    .is(201);
    p.put(Admin, "night-service", json!({ "mode": "automatic" }))
        .await
        .refused(422, "needs an opening-hours schedule");
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "automatic", "hours": "Feiertage" }),
    )
    .await
    .refused(
        422,
        "schedule \"Feiertage\" holds holidays, not opening-hours",
    );
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "on", "target": "auto-attendant" }),
    )
    .await
    .refused(422, "needs a destination");
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "on", "target": "auto-attendant", "destination": "+49900123456" }),
    )
    .await
    .invalid("destination");
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "on", "destination": "+4930123400" }),
    )
    .await
    .refused(422, "the group voicemail takes no destination");
    // An auto-attendant's extension must be somebody's in the tenant (judged in the write).
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "on", "target": "auto-attendant", "destination": "777" }),
    )
    .await
    .refused(422, "extension 777 belongs to nobody in this tenant");
    p.put(
        Admin,
        "night-service",
        json!({ "mode": "on", "target": "auto-attendant", "destination": "3456" }),
    )
    .await
    .is(200);
    let set = p
        .put(
            Admin,
            "night-service",
            json!({ "mode": "automatic", "hours": "Office", "holidays": "Feiertage",
                    "target": "auto-attendant", "destination": "+4930123400" }),
        )
        .await;
    assert_eq!(set.is(200)["time_zone"], "Europe/Berlin");
    // Saturday 28 March 2026, 13:00 CET: in force until Monday 08:00, which is CEST.
    let at = p.get(Admin, "night-service?at=2026-03-28T12:00:00Z").await;
    let body = at.is(200);
    assert_eq!(
        (&body["in_force"], &body["until"]),
        (&json!(true), &json!("2026-03-30T06:00:00Z")),
        "{body}"
    );
    // Friday 1 May 2026 (a holiday every year), 10:00 CEST: in force until Monday 4 May 08:00.
    let at = p.get(Admin, "night-service?at=2026-05-01T08:00:00Z").await;
    assert_eq!(at.is(200)["until"], "2026-05-04T06:00:00Z");
    // A working day, 10:00 CEST: not in force until 18:00.
    let at = p.get(Admin, "night-service?at=2026-05-05T08:00:00Z").await;
    let body = at.is(200);
    assert_eq!(
        (&body["in_force"], &body["until"]),
        (&json!(false), &json!("2026-05-05T16:00:00Z"))
    );
    p.get(Admin, "night-service?at=yesterday")
        .await
        .invalid("at");
    // A site in New York inherits the tenant's service, read in its own zone...
    p.post(
        Admin,
        "sites",
        json!({ "name": "NYC", "sip_domain": "sip.example.com", "time_zone": "America/New_York" }),
    )
    .await
    .is(201);
    let ny = p
        .get(Admin, "sites/NYC/night-service?at=2026-05-05T08:00:00Z")
        .await;
    let body = ny.is(200);
    assert_eq!(
        (&body["inherited"], &body["in_force"], &body["until"]),
        (&json!(true), &json!(true), &json!("2026-05-05T12:00:00Z")),
        "{body}"
    );
    // ... until it has its own; removing that brings the tenant's back.
    let own = p
        .put(Admin, "sites/NYC/night-service", json!({ "mode": "on" }))
        .await;
    // The dial plan shows the tenant's night service and the site's own.
    let plan = p.get(Admin, "dialplan").await;
    let body = plan.is(200);
    assert_eq!(body["night_service"]["mode"], "automatic", "{body}");
    assert_eq!(body["site_night_services"][0]["site"], "NYC", "{body}");
    assert_eq!(body["site_night_services"][0]["in_force"], true, "{body}");
    let body = own.is(200);
    assert_eq!(
        (
            &body["site"],
            &body["inherited"],
            &body["in_force"],
            &body["until"]
        ),
        (&json!("NYC"), &json!(false), &json!(true), &json!(null))
    );
    p.delete(Admin, "sites/NYC/night-service").await.is(204);
    let back = p.get(Admin, "sites/NYC/night-service").await;
    assert_eq!(back.is(200)["inherited"], true);
    // A schedule in use is not deleted; the answer names who uses it.
    p.delete(Admin, "schedules/Office")
        .await
        .refused(409, "used by the tenant's night service");
    p.put(Admin, "night-service", json!({ "mode": "off" }))
        .await
        .is(200);
    p.delete(Admin, "schedules/Office").await.is(204);
}

/// A park group's member gets keys for its slots (Yealink's park key type), a pickup group's
/// member a group-pickup key, after the BLF keys and speed dials; never past the model's key
/// count. Leaving the groups takes the keys away at the next fetch.
#[tokio::test]
async fn members_get_park_and_group_pickup_keys_within_the_models_keys() {
    let p = Portal::new().await;
    p.put(
        Admin,
        "users/Ada Lovelace/speed-dials",
        json!([{ "label": "Desk", "target": "+4930123401" }]),
    )
    .await
    .is(200);
    p.post(
        Admin,
        "park-groups",
        json!({ "name": "Lot", "members": ["Ada Lovelace"], "slots": ["800", "801"] }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "pickup-groups",
        json!({ "name": "Front desk", "members": ["Ada Lovelace"] }),
    )
    .await
    .is(201);
    let file = p.phone_file().await;
    // Line 1, then the speed dial (key 2), the slots (3, 4), group pickup (5).
    for line in [
        "linekey.2.type = 13",
        "linekey.3.type = 10",
        "linekey.3.value = 800",
        "linekey.3.label = Lot 800",
        "linekey.4.value = 801",
        "linekey.5.type = 23",
        "linekey.5.value = *8",
        "linekey.5.label = Front desk",
    ] {
        assert!(file.lines().any(|l| l == line), "{line:?} missing:\n{file}");
    }
    // A T54W has 27 keys: 40 slots fill them, and no more.
    p.put(
        Admin,
        "park-groups/Lot",
        json!({ "name": "Lot", "members": ["Ada Lovelace"], "slots": { "from": "800", "to": "839" } }),
    )
    .await
    .is(200);
    let file = p.phone_file().await;
    assert!(file.contains("linekey.27.value = 824"), "{file}");
    assert!(!file.contains("linekey.28."), "{file}");
    p.delete(Admin, "park-groups/Lot").await.is(204);
    p.delete(Admin, "pickup-groups/Front desk").await.is(204);
    let file = p.phone_file().await;
    assert!(!file.contains("linekey.3."), "{file}");
}
