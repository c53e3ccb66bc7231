"""Revision tags: one injection webhook per tag, owned by the program, pointing at one revision.

A tag is what namespaces and gateways name (``istio.io/rev=<tag>``; ``istio-injection=enabled``
means the ``default`` tag); a revision is one installed istiod (``1-30-3``). Moving a tag to another
revision is how an upgrade reaches workloads, so it must be one in-place change.

Why the istiod chart's ``revisionTags`` is not used: with it the tag's webhook belongs to the Helm
release of whichever revision the tag points at, and moving the tag moves the object between two
releases in one update. Helm refuses to install an object that another release owns ("exists and
cannot be imported into the current release", helm/helm ``pkg/action/validate.go``) and, when an
object leaves a release's manifest, deletes it without asking who owns it now (``pkg/kube/client.go``).
Pulumi upgrades the two releases in either order, so the move would fail, or succeed and then lose
the tag's webhook. Istio's own Helm upgrade guide and its operator (sail-operator's
IstioRevisionTag) likewise keep tags out of the revision's release.

The webhook is the one the istiod chart renders for a tag (``templates/revision-tags-mwc.yaml``):
name ``istio-revision-tag-<tag>``, labels ``istio.io/tag`` and ``istio.io/rev``, by which istiod
learns its tags (``pkg/revisions/tag_watcher.go``) and its cert patcher fills in the CA bundle
(``pkg/webhooks/webhookpatch.go``; on a remote, the primary's istiod does, through the remote
secret). Every webhook refuses pods when istiod cannot answer (failurePolicy Fail), as the chart's.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.config.model import DEFAULT_TAG
from components.istio.facts import INJECT_LABEL, INJECTION_LABEL, REV_LABEL, TAG_LABEL

TAG_WEBHOOK_PREFIX = "istio-revision-tag"
INJECTOR_SUFFIX = "sidecar-injector.istio.io"


def tag_webhook_name(tag: str) -> str:
    return f"{TAG_WEBHOOK_PREFIX}-{tag}"


def _expression(key: str, operator: str, values: Sequence[str] = ()) -> k8s.meta.v1.LabelSelectorRequirementArgs:
    return k8s.meta.v1.LabelSelectorRequirementArgs(key=key, operator=operator, values=list(values) or None)


Selector = list[k8s.meta.v1.LabelSelectorRequirementArgs]


def _selectors(tag: str) -> list[tuple[str, Selector, Selector]]:
    """(webhook name prefix, namespace selector, object selector) for each way a pod asks for ``tag``.

    Any tag: a namespace labelled ``istio.io/rev=<tag>``, or a pod so labelled in an unlabelled
    namespace. The ``default`` tag also takes namespaces with ``istio-injection=enabled`` and pods
    with ``sidecar.istio.io/inject=true`` and no revision label (the gateway chart's pods).
    """
    not_opted_out = _expression(INJECT_LABEL, "NotIn", ["false"])
    selectors = [
        ("rev.namespace.", [_expression(REV_LABEL, "In", [tag]), _expression(INJECTION_LABEL, "DoesNotExist")], [not_opted_out]),
        (
            "rev.object.",
            [_expression(REV_LABEL, "DoesNotExist"), _expression(INJECTION_LABEL, "DoesNotExist")],
            [not_opted_out, _expression(REV_LABEL, "In", [tag])],
        ),
    ]
    if tag == DEFAULT_TAG:
        selectors += [
            ("namespace.", [_expression(INJECTION_LABEL, "In", ["enabled"])], [not_opted_out]),
            (
                "object.",
                [_expression(INJECTION_LABEL, "DoesNotExist"), _expression(REV_LABEL, "DoesNotExist")],
                [_expression(INJECT_LABEL, "In", ["true"]), _expression(REV_LABEL, "DoesNotExist")],
            ),
        ]
    return selectors


def injector_client_config(
    revision: str, path: str = "/inject", url: str | None = None
) -> k8s.admissionregistration.v1.WebhookClientConfigArgs:
    """How the API server reaches the revision's injector: its Service ``istiod-<revision>`` at
    ``path`` (on a remote that Service leads to the primary), or ``url`` where the primary is
    reached by host name (see ``remote_istiod_values``)."""
    if url is not None:
        return k8s.admissionregistration.v1.WebhookClientConfigArgs(url=url)
    service = k8s.admissionregistration.v1.ServiceReferenceArgs(name=f"istiod-{revision}", namespace="istio-system", path=path, port=443)
    return k8s.admissionregistration.v1.WebhookClientConfigArgs(service=service)


def tag_webhooks(
    tag: str, client_config: pulumi.Input[k8s.admissionregistration.v1.WebhookClientConfigArgs]
) -> list[k8s.admissionregistration.v1.MutatingWebhookArgs]:
    """The webhooks of the tag's MutatingWebhookConfiguration, as the chart renders them."""
    return [
        k8s.admissionregistration.v1.MutatingWebhookArgs(
            name=f"{prefix}{INJECTOR_SUFFIX}",
            client_config=client_config,
            side_effects="None",
            rules=[
                k8s.admissionregistration.v1.RuleWithOperationsArgs(
                    operations=["CREATE"], api_groups=[""], api_versions=["v1"], resources=["pods"]
                )
            ],
            failure_policy="Fail",
            reinvocation_policy="Never",
            admission_review_versions=["v1"],
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_expressions=namespaces),
            object_selector=k8s.meta.v1.LabelSelectorArgs(match_expressions=objects),
        )
        for prefix, namespaces, objects in _selectors(tag)
    ]


def revision_tag(
    resource: str,
    tag: str,
    revision: str,
    client_config: pulumi.Input[k8s.admissionregistration.v1.WebhookClientConfigArgs],
    opts: pulumi.ResourceOptions,
) -> k8s.admissionregistration.v1.MutatingWebhookConfiguration:
    """The tag's webhook, ``istio-revision-tag-<tag>``, injecting with ``revision``. ``opts`` must
    make it wait for that revision's istiod: the Service it calls and the patcher of its CA bundle."""
    return k8s.admissionregistration.v1.MutatingWebhookConfiguration(
        resource,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=tag_webhook_name(tag),
            labels={TAG_LABEL: tag, REV_LABEL: revision, "app": "sidecar-injector"},
        ),
        webhooks=tag_webhooks(tag, client_config),
        opts=opts,
    )
