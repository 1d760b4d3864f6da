# Builds the base image first and every service image on top of it, in one BuildKit graph.
#
#   docker buildx bake                         # base + eveai_app + eveai_api + eveai_workers, local tags
#   REGISTRY=registry.example.com/eveai TAG=1.4.0 docker buildx bake --push
#   docker buildx bake eveai_workers           # one service (its base is built as a dependency)
#
# The services get the base through a named build context ("eveai-base" = target:base): BuildKit
# replaces their `FROM ${BASE_IMAGE}` (default "eveai-base") with the base target's result, so a
# service build never pulls a stale base from a registry. Podman has no bake: see docs/image.md.

variable "REGISTRY" {
  # Empty: local names (eveai-base:dev, ...). Set it to push, e.g. registry.example.com/eveai
  default = ""
}

variable "TAG" {
  default = "dev"
}

variable "PYTHON_IMAGE" {
  default = "python:3.12-slim-bookworm"
}

variable "NODE_IMAGE" {
  # Same Node major as the tests (package.json devDependency `node`).
  default = "node:24-bookworm-slim"
}

function "image" {
  params = [name]
  result = REGISTRY == "" ? "${name}:${TAG}" : "${REGISTRY}/${name}:${TAG}"
}

group "default" {
  targets = ["eveai_app", "eveai_api", "eveai_workers"]
}

target "_common" {
  context = "."
  labels = {
    "org.opencontainers.image.source" = "eveai-supervisor"
  }
}

target "base" {
  inherits   = ["_common"]
  dockerfile = "Dockerfile.base"
  target     = "base"
  args = {
    PYTHON_IMAGE = PYTHON_IMAGE
    NODE_IMAGE   = NODE_IMAGE
    REQUIREMENTS = "requirements.txt"
    UID          = "10001"
    GID          = "10001"
  }
  tags = [image("eveai-base")]
}

target "_service" {
  inherits = ["_common"]
  contexts = {
    eveai-base = "target:base"
  }
}

target "eveai_app" {
  inherits   = ["_service"]
  dockerfile = "docker/eveai_app/Dockerfile"
  tags       = [image("eveai-app")]
}

target "eveai_api" {
  inherits   = ["_service"]
  dockerfile = "docker/eveai_api/Dockerfile"
  tags       = [image("eveai-api")]
}

target "eveai_workers" {
  inherits   = ["_service"]
  dockerfile = "docker/eveai_workers/Dockerfile"
  tags       = [image("eveai-workers")]
}
