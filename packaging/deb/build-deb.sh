#!/bin/sh
# packaging/deb/build-deb.sh VERSION OUTDIR: the Debian binary package of this
# tree with dpkg's own tools: `make install` into a staging root (PREFIX=/usr),
# the systemd units, copyright and changelog, stripped binaries, Depends from
# dpkg-shlibdeps, md5sums, then dpkg-deb --build (root-owned files). Run by
# `make deb` after `make all man`; lintian checks the result (tests and .ci/run).
set -eu
version=$1 out=$2
pkg=dblab-rds-refresh
top=$(pwd)
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/drr-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/src/debian/$pkg

mkdir -p "$root"
make -s install DESTDIR="$root" PREFIX=/usr >/dev/null

# systemd units: the examples, with the packaged paths (not enabled: the admin
# writes /etc/dblab/rds-refresh.yaml first, then enables the timer).
install -d "$root/lib/systemd/system"
for u in examples/systemd/*.service examples/systemd/*.timer; do
    sed 's|/usr/local/|/usr/|g' "$u" >"$root/lib/systemd/system/$(basename "$u")"
    chmod 0644 "$root/lib/systemd/system/$(basename "$u")"
done
sed -i 's|/usr/local/|/usr/|g' "$root/usr/share/dblab-rds-refresh/examples/cron" \
    "$root/usr/share/dblab-rds-refresh/examples/systemd/"*

doc=$root/usr/share/doc/$pkg
install -m 0644 packaging/deb/copyright "$doc/copyright"
date=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}")
printf '%s (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$pkg" "$version" "$version" "$(sed -n 's/^Maintainer: //p' packaging/deb/control.in)" "$date" |
    gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Binaries: debug symbols and notes out (lintian: unstripped-binary-or-object).
for f in "$root/usr/bin/"*; do
    [ -L "$f" ] && continue
    if file -b "$f" | grep -q ELF; then
        strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
    fi
done
find "$root" -type d -exec chmod 0755 {} +
find "$root/usr/share" -type f -exec chmod go-w {} +

# Depends: the shared libraries the ELF commands link, as dpkg-shlibdeps says.
mkdir -p "$work/src/debian"  # dpkg-shlibdeps reads debian/control
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$work/src/debian/control"
elves=$(cd "$work/src" && for f in "debian/$pkg/usr/bin/"*; do
    [ -L "$f" ] || { file -b "$f" | grep -q ELF && echo "$f"; }; done)
# shellcheck disable=SC2086 # one word per binary
depends=$(cd "$work/src" && dpkg-shlibdeps -O $elves | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" \
    -e "s|@SIZE@|$size|" packaging/deb/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum >DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
