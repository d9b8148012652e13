#!/usr/bin/env bash
# Puts the built terraform-provider-verbatim where Terraform can install it
# offline, and writes the CLI configuration that uses it (docs/terraform/index.md):
#   BUILD_DIR/terraform-mirror/registry.terraform.io/verbatim/verbatim/VERSION/linux_ARCH/
#   BUILD_DIR/terraform.tfrc      export TF_CLI_CONFIG_FILE=BUILD_DIR/terraform.tfrc
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bin=$build/terraform-provider-verbatim
[[ -x $bin ]] || { echo "terraform-mirror: $bin is not built (make build)" >&2; exit 1; }
version=$("$bin" --version | awk '{print $2}')
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
mirror=$build/terraform-mirror
dir=$mirror/registry.terraform.io/verbatim/verbatim/$version/linux_$arch
mkdir -p "$dir"
ln -sf "$bin" "$dir/terraform-provider-verbatim"
cat >"$build/terraform.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "verbatim/verbatim" = "$build"
  }
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/verbatim/verbatim"]
  }
  direct {
    exclude = ["registry.terraform.io/verbatim/verbatim"]
  }
}
TFRC
echo "terraform-provider-verbatim $version is in $dir"
echo "Use it with:  export TF_CLI_CONFIG_FILE=$build/terraform.tfrc CHECKPOINT_DISABLE=1"
echo "(or copy $build/terraform.tfrc to ~/.terraformrc)"
