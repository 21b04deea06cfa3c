#!/usr/bin/env node
// Parses and validates Adaptive Cards with the official `adaptivecards` library (the pinned
// version in package.json; `make adaptivecards` installs it under .tools/adaptivecards-validator),
// for tests/support/adaptivecards.py. Test-only, never deployed.
//
// Usage: NODE_PATH=.tools/adaptivecards-validator/node_modules node validate.js < input.json
//
// stdin: one JSON document, either a card object or {"cards": [card, ...]}, optionally with
// "maxVersion": "1.5" beside "cards" (the newest card version the host supports; default: the
// library's latest, 1.6). stdout: {"adaptivecards": <library version>, "results": [{"ok": bool,
// "errors": [{"phase": "parse"|"validate"|"input", "event": <ValidationEvent name>,
// "message": str}], "version": <card version the library parsed, or null>}, ...]}, one result per
// card, in order. Exit status 0 whenever the input was read (a card with errors is a result, not
// a failure); 2 for unreadable input or a missing library, with the reason on stderr.
//
// Every parse event (SerializationContext) and every validation event (validateProperties) is an
// error; no ValidationEvent category is ignored. In particular the library logs an unknown element
// or action type (UnknownElementType / UnknownActionType) as a parse event and carries on with the
// element's fallback, or drops it: a host would not show what the card meant to show, so it is an
// error here, fallback or not. Hints, Deprecated and the Required-inputs advice count too: the
// cards this project sends have none, so any that shows up is a change to look at.
//
// What the library does NOT report (it silently uses the default instead): a string, number or
// boolean property of the wrong JSON type (e.g. "wrap": "yes", "text": 5, "body": "x"), a missing
// FactSet fact title/value, unknown properties, a missing "version" (taken as 1.0), and an element
// newer than the card's own "version" as long as it is not newer than maxVersion.
//
// The package's "main" (lib/) is TypeScript's ES-module output with extension-less import
// specifiers and no "type": "module", which Node cannot load (ERR_MODULE_NOT_FOUND); dist/ is the
// library's own webpack UMD build of the same sources (its peer dependency swiper bundled in).
// Parsing and validating need no DOM (only rendering does), so this runs in plain Node.
"use strict";

const fs = require("fs");

let AdaptiveCards;
let libraryVersion;
try {
    AdaptiveCards = require("adaptivecards/dist/adaptivecards.js");
    libraryVersion = require("adaptivecards/package.json").version;
} catch (error) {
    process.stderr.write(
        "the adaptivecards npm package is not installed (run `make adaptivecards`, and run this " +
            "script with NODE_PATH=.tools/adaptivecards-validator/node_modules): " +
            error.message +
            "\n"
    );
    process.exit(2);
}

const { AdaptiveCard, SerializationContext, ValidationEvent, Version, Versions } = AdaptiveCards;

function eventName(event) {
    return ValidationEvent[event] !== undefined ? ValidationEvent[event] : String(event);
}

function parseMaxVersion(value) {
    if (value === undefined || value === null) {
        return Versions.latest;
    }
    const version = typeof value === "string" ? Version.parse(value, new SerializationContext()) : undefined;
    if (!version || !version.isValid) {
        throw new Error(`maxVersion must be a version string such as "1.5", got ${JSON.stringify(value)}`);
    }
    return version;
}

function validateCard(json, maxVersion) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
        // The library would "parse" a string or an array into an empty 1.0 card without a word.
        return {
            ok: false,
            errors: [{ phase: "input", event: "NotAnObject", message: "a card must be a JSON object" }],
            version: null,
        };
    }
    const errors = [];
    const card = new AdaptiveCard();
    card.maxVersion = maxVersion; // what validateProperties checks the card's "version" against
    // The context's targetVersion is what the element and action registries check each type's
    // schema version against: a type newer than that is an unknown type.
    const context = new SerializationContext(maxVersion);
    let phase = "parse";
    try {
        card.parse(json, context);
        for (let i = 0; i < context.eventCount; i++) {
            const event = context.getEventAt(i);
            errors.push({ phase: "parse", event: eventName(event.event), message: String(event.message) });
        }
        phase = "validate";
        const results = card.validateProperties();
        for (const event of results.validationEvents) {
            errors.push({ phase: "validate", event: eventName(event.event), message: String(event.message) });
        }
    } catch (error) {
        errors.push({ phase, event: "Exception", message: String(error && error.stack ? error.stack : error) });
    }
    return {
        ok: errors.length === 0,
        errors,
        version: card.version ? card.version.toString() : null,
    };
}

function main() {
    let input;
    try {
        input = JSON.parse(fs.readFileSync(0, "utf8"));
    } catch (error) {
        process.stderr.write(`stdin is not one JSON document: ${error.message}\n`);
        process.exit(2);
    }
    const batch = input !== null && typeof input === "object" && !Array.isArray(input) && "cards" in input;
    if (batch && !Array.isArray(input.cards)) {
        process.stderr.write('"cards" must be a list of cards\n');
        process.exit(2);
    }
    let maxVersion;
    try {
        maxVersion = parseMaxVersion(batch ? input.maxVersion : undefined);
    } catch (error) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
    }
    const cards = batch ? input.cards : [input];
    const results = cards.map((card) => validateCard(card, maxVersion));
    process.stdout.write(JSON.stringify({ adaptivecards: libraryVersion, results }) + "\n");
}

main();
