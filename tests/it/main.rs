//! The one integration test binary: a module per surface, `support` for the in-process server.

#![allow(unreachable_pub)]

mod admin;
mod api;
mod cli;
mod cluster;
mod discovery;
mod families;
mod files;

mod golden;
mod hardening;
mod hardening_rules;
mod import;
mod import_kill;
mod installer;
mod observe;
mod openapi;
mod phone_service;
mod portal;
mod portal_ui;
mod provisioning;
mod rollout;
mod sipp;
mod store;
mod support;
mod tftp;
mod tls;
mod trust;
