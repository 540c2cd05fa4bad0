#!/usr/bin/env python3
"""Run every scim2-tester checker against a live SCIM server and print one JSON object.

Usage:
  python tests/scim/run_scim2_tester.py --base-url URL --token TOKEN
      [--exclude-tag TAG ...] [--include-tag TAG ...] [--resource-type NAME ...]
      [--timeout SECONDS]
      [--schemas FILE --resource-types FILE --service-provider-config FILE]

URL is the SCIM base URL, e.g. http://127.0.0.1:PORT/scim/v2/acme; every request
carries "Authorization: Bearer TOKEN". With no tag option every checker runs
(all tags). Tags match hierarchically, as in scim2-tester: "crud" also
selects "crud:read", "crud:delete", ... The discovery checks that feed
the others (GET /ServiceProviderConfig, /ResourceTypes, /Schemas) always run.
--exclude-tag works around a scim2-tester 0.5.2 bug (see tag_filters); an
excluded check is reported as SKIPPED, "Skipped due to tag exclusion".
Example: --exclude-tag crud:delete skips object_deletion for every resource
type (scim2-tester still sends best-effort DELETEs to clean up what it
created, and ignores their failures).

Prints exactly one JSON object on stdout:
  {"results": [{"title": ..., "status": "SUCCESS", "reason": ...,
                "tags": [...], "resource_type": "User" or null,
                "origin": "check_server" or "extra"}, ...]}
in the order the checks ran. status is the name of a scim2_tester.Status
member: SUCCESS, COMPLIANT, ACCEPTABLE, DEVIATION, ERROR, CRITICAL or SKIPPED.
A check that yields several results (one per HTTP method, per attribute...)
appears once per result, under the same title. "origin" is "check_server" for
everything scim2_tester.check_server runs, and "extra" for
core_schemas_validation, the one checker of scim2-tester 0.5.2 that
check_server never calls, which this script runs after it.

--schemas FILE --resource-types FILE --service-provider-config FILE (all three
together) describe the server from local JSON files instead of its discovery
endpoints, as scim2-cli's -s/-r/-c do: the discovery checks still run and
report what the server serves, but the CRUD and PATCH checks no longer depend
on them (check_server otherwise stops after discovery when /Schemas,
/ResourceTypes or /ServiceProviderConfig fail).

Exit codes: 0 whenever the checks ran, whatever they found; 2 on a usage error;
1 if scim2-tester itself crashed (the JSON object then has "error" too).
Written for scim2-tester 0.5.2 (scim2-client 0.13.2, which sends its requests
with httpx2).
"""
import argparse
import contextlib
import json
import sys
import traceback
from urllib.parse import urlsplit


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run scim2-tester against a live SCIM server and print JSON results."
    )
    parser.add_argument("--base-url", required=True, help="SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2/acme")
    parser.add_argument("--token", required=True, help="bearer token, sent as 'Authorization: Bearer TOKEN'")
    parser.add_argument("--include-tag", action="append", default=[], metavar="TAG",
                        help="run only the checkers with this tag (repeatable); default: all")
    parser.add_argument("--exclude-tag", action="append", default=[], metavar="TAG",
                        help="skip the checkers with this tag (repeatable), e.g. crud:delete")
    parser.add_argument("--resource-type", action="append", default=[], metavar="NAME",
                        help="test only this resource type, e.g. User (repeatable); default: all")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    parser.add_argument("--schemas", metavar="FILE",
                        help="JSON list (or ListResponse) of the Schemas to assume instead of GET /Schemas")
    parser.add_argument("--resource-types", metavar="FILE",
                        help="JSON list (or ListResponse) of the ResourceTypes to assume instead of GET /ResourceTypes")
    parser.add_argument("--service-provider-config", metavar="FILE",
                        help="JSON ServiceProviderConfig to assume instead of GET /ServiceProviderConfig")
    args = parser.parse_args(argv)

    url = urlsplit(args.base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        parser.error(f"--base-url must be an absolute http(s) URL, got {args.base_url!r}")
    if not args.token.strip():
        parser.error("--token must not be empty")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    given = [f for f in (args.schemas, args.resource_types, args.service_provider_config) if f]
    if given and len(given) != 3:
        parser.error("--schemas, --resource-types and --service-provider-config go together")
    for path in given:
        try:
            with open(path, encoding="utf-8") as fd:
                json.load(fd)
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read {path}: {exc}")
    return args


def result_to_json(result, origin):
    return {
        "title": result.title,
        "status": result.status.name,
        "reason": result.reason,
        "tags": sorted(result.tags or ()),
        "resource_type": result.resource_type,
        "origin": origin,
    }


def tag_filters(include, exclude):
    """Turn --include-tag/--exclude-tag into check_server's include_tags/exclude_tags.

    scim2-tester tags three discovery checks "*" (service_provider_config_endpoint,
    query_all_resource_types, query_all_schemas): every later check needs what
    they fetch, and "*" is meant to make them always run. In 0.5.2 "*" also
    matches every exclude_tags, so any exclusion skips them and check_server
    then stops before a single CRUD or PATCH check. This wraps its tag
    matcher so that a "*" check is never excluded; everything else matches as
    scim2-tester does.
    """
    import scim2_tester.utils as tester_utils

    include_tags = set(include) or None
    exclude_tags = set(exclude) or None
    original = getattr(tester_utils, "_matches_hierarchical_tags", None)
    if exclude_tags is not None and original is not None and not getattr(original, "_never_excludes_star", False):
        def matches(func_tags, filter_tags):
            if filter_tags is exclude_tags and "*" in func_tags:
                return False
            return original(func_tags, filter_tags)

        matches._never_excludes_star = True
        tester_utils._matches_hierarchical_tags = matches
    return include_tags, exclude_tags


def load_provider(args):
    """Describe the server from local files, as scim2-cli's -s/-r/-c options do."""
    from scim2_models import ListResponse
    from scim2_models import ResourceType
    from scim2_models import Schema
    from scim2_models import ScimProvider
    from scim2_models import ServiceProviderConfig

    def load_list(path, model):
        with open(path, encoding="utf-8") as fd:
            payload = json.load(fd)
        if isinstance(payload, dict):
            return ListResponse[model].model_validate(payload).resources or []
        return [model.model_validate(item) for item in payload]

    with open(args.service_provider_config, encoding="utf-8") as fd:
        config = ServiceProviderConfig.model_validate(json.load(fd))
    return ScimProvider.from_discovery(
        load_list(args.schemas, Schema), load_list(args.resource_types, ResourceType), config
    )


def run(args):
    import httpx2
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import CheckConfig
    from scim2_tester import check_server
    from scim2_tester.checkers import core_schemas_validation
    from scim2_tester.utils import CheckContext

    # httpx2 puts "/Users" below the base URL's path (it appends the slash
    # the base URL lacks); the trailing slash here only makes that explicit.
    base_url = args.base_url.rstrip("/") + "/"
    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=args.timeout,
    )
    include_tags, exclude_tags = tag_filters(args.include_tag, args.exclude_tag)
    with http:
        client = SyncSCIMClient(http)
        if args.schemas:
            # What the client already describes wins over what the server
            # publishes, so the CRUD and PATCH checks run even when the
            # discovery endpoints are missing (their own checks then fail).
            client.provider = load_provider(args)
        results = check_server(
            client,
            raise_exceptions=False,
            include_tags=include_tags,
            exclude_tags=exclude_tags,
            resource_types=args.resource_type or None,
        )
        output = [result_to_json(r, "check_server") for r in results]
        # scim2-tester 0.5.2 ships one checker that check_server never calls:
        # core_schemas_validation (tags discovery, schemas), which wants /Schemas
        # to list the ResourceType, ServiceProviderConfig and Schema schemas.
        # It is run here too, on its own, and marked "extra".
        conf = CheckConfig(include_tags=include_tags, exclude_tags=exclude_tags)
        extra = core_schemas_validation(CheckContext(client, conf))
        output.extend(result_to_json(r, "extra") for r in extra)
    return output


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    real_stdout = sys.stdout
    # Only the JSON object goes to stdout: anything the libraries print goes
    # to stderr instead.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            results = run(args)
    except Exception as exc:  # scim2-tester catches check failures; this is a crash
        traceback.print_exc(file=sys.stderr)
        json.dump({"results": [], "error": f"{type(exc).__name__}: {exc}"}, real_stdout)
        real_stdout.write("\n")
        return 1
    json.dump({"results": results}, real_stdout)
    real_stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
