// Package labkit runs real SIP peers — Kamailio as registrar/proxy, baresip
// as the far-end phone and SIPp for scripted SIP dialogs (scenarios/*.xml,
// exported as Scenario*) — for end-to-end tests and for the lab program
// (tools/lab).
//
// baresip binds its RTP and DNS sockets on the wildcard address whatever its
// config says, so the peers run only inside a private network namespace
// (`unshare -n`, where loopback is the only interface). Tests call Require to
// skip (or, under `make test`, fail) when they are not in one. With a
// NetNS the peers run in a namespace of their own beside the test's, so a
// test can change or remove the phone-side address of the link between.
package labkit
