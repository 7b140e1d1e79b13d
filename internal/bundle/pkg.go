package bundle

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// maxBundles is the most <bundle> elements read from one Distribution or
// PackageInfo; an app with many plug-ins lists a few dozen.
const maxBundles = 4096

// installerXML is what Inspect takes from a Distribution or PackageInfo
// file. productbuild writes, in Distribution:
//
//	<pkg-ref id="com.example.demo"><bundle-version>
//	    <bundle id="com.example.demo" path="Demo.app" CFBundleShortVersionString="1.2" CFBundleVersion="42"/>
//	</bundle-version></pkg-ref>
//	<product id="com.example.demo" version="1.2"/>
//	<volume-check><allowed-os-versions><os-version min="12.0"/></allowed-os-versions></volume-check>
//
// and pkgbuild writes, in PackageInfo:
//
//	<pkg-info identifier="com.example.demo" version="1.2" ...>
//	    <bundle path="./Demo.app" id="com.example.demo" CFBundleShortVersionString="1.2" CFBundleVersion="42">
//	        <bundle path="./Contents/PlugIns/Widget.appex" .../>
//	    </bundle>
//	</pkg-info>
type installerXML struct {
	productID, productVersion string
	pkgInfoID, pkgInfoVersion string
	minOS                     string
	bundles                   []bundleElem
}

// bundleElem is one <bundle> element.
type bundleElem struct {
	id, short, build, path string
	nested                 bool // inside another <bundle>, so not the app itself
}

// parseInstallerXML reads a Distribution or PackageInfo document. It walks
// the tokens without building a tree, so its memory is bounded by the
// document's size.
func parseInstallerXML(data []byte) (installerXML, error) {
	var m installerXML
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []string // the open elements' names
	bundleDepth := 0
	root, product, osVersion := false, false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !root {
				return m, parseError("it has no root element")
			}
			return m, nil
		}
		if err != nil {
			return m, parseError("it is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range t.Attr {
					if a.Name.Local == name && a.Name.Space == "" {
						return strings.TrimSpace(a.Value)
					}
				}
				return ""
			}
			switch name := t.Name.Local; {
			case name == "pkg-info" && len(stack) == 0:
				m.pkgInfoID, m.pkgInfoVersion = attr("identifier"), attr("version")
			case name == "product" && !product:
				product = true
				m.productID, m.productVersion = attr("id"), attr("version")
			case name == "os-version" && !osVersion && len(stack) > 0 && stack[len(stack)-1] == "allowed-os-versions":
				osVersion = true
				m.minOS = attr("min")
			case name == "bundle":
				if len(m.bundles) < maxBundles {
					m.bundles = append(m.bundles, bundleElem{
						id:     attr("id"),
						short:  attr("CFBundleShortVersionString"),
						build:  attr("CFBundleVersion"),
						path:   attr("path"),
						nested: bundleDepth > 0,
					})
				}
				bundleDepth++
			}
			root = true
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if t.Name.Local == "bundle" {
				bundleDepth--
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// appBundle returns the document's application bundle: a <bundle> not
// nested in another, whose path ends in .app and lies inside no other .app.
// The one whose ID is prefer wins; otherwise the one at the shallowest path
// (Demo.app before Library/Helper.app). Several distinct apps at that
// depth are an error, returned as their IDs.
func (m installerXML) appBundle(prefer string) (bundleElem, []string) {
	var found []bundleElem
	best := -1 // the fewest path segments seen
	for _, b := range m.bundles {
		p := strings.TrimPrefix(path.Clean("/"+b.path), "/")
		if b.id == "" || b.nested || !strings.HasSuffix(p, ".app") || strings.Contains(p, ".app/") {
			continue
		}
		if b.id == prefer {
			return b, nil
		}
		switch depth := strings.Count(p, "/"); {
		case best == -1 || depth < best:
			best, found = depth, []bundleElem{b}
		case depth == best && !slices.ContainsFunc(found, func(f bundleElem) bool { return f.id == b.id }):
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return bundleElem{}, nil
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, b := range found {
		ids[i] = b.id
	}
	return bundleElem{}, ids
}

// bundleByID returns the first bundle with the ID that gives a version,
// preferring one that gives both.
func (m installerXML) bundleByID(id string) bundleElem {
	var best bundleElem
	for _, b := range m.bundles {
		if b.id != id {
			continue
		}
		if b.short != "" && b.build != "" {
			return b
		}
		if best.id == "" || (best.short == "" && best.build == "") {
			best = b
		}
	}
	return best
}

// inspectPKG reads a productbuild archive's Distribution and its
// components' PackageInfo files.
func inspectPKG(r io.ReaderAt, size int64, base string) (Info, error) {
	x, err := openXar(r, size, base)
	if err != nil {
		return Info{}, err
	}

	// Distribution sits at the top of a product archive; a component
	// package (pkgbuild's output) has PackageInfo there instead, and a
	// product archive has one folder per component holding its own.
	var dist []*xarFile
	type named struct {
		f    *xarFile
		path string
	}
	var pkgInfos []named
	for i := range x.toc.TOC.Files {
		f := &x.toc.TOC.Files[i]
		switch {
		case f.Name == "Distribution" && f.Type == "file":
			dist = append(dist, f)
		case f.Name == "PackageInfo" && f.Type == "file":
			pkgInfos = append(pkgInfos, named{f, "PackageInfo"})
		case f.Type == "directory" && strings.HasSuffix(f.Name, ".pkg"):
			for j := range f.Files {
				if c := &f.Files[j]; c.Name == "PackageInfo" && c.Type == "file" {
					pkgInfos = append(pkgInfos, named{c, quote(f.Name + "/PackageInfo")})
				}
			}
		}
	}
	switch {
	case len(dist) > 1:
		return Info{}, &Error{Kind: KindLayout, File: base,
			problem: fmt.Sprintf("the .pkg has %d Distribution files", len(dist)), hint: hintProductbuild}
	case len(dist) == 0 && len(pkgInfos) == 0:
		return Info{}, &Error{Kind: KindLayout, File: base,
			problem: "the .pkg has neither a Distribution file nor a component's PackageInfo",
			hint:    hintProductbuild}
	case len(pkgInfos) > maxPackageInfos:
		pkgInfos = pkgInfos[:maxPackageInfos]
	}

	var d installerXML
	if len(dist) == 1 {
		data, err := x.readFile(dist[0], "Distribution")
		if err != nil {
			return Info{}, err
		}
		if d, err = parseInstallerXML(data); err != nil {
			return Info{}, &Error{Kind: KindPlist, File: base,
				problem: "the .pkg's Distribution is malformed: " + err.Error(), hint: hintProductbuild, Err: err}
		}
	}
	var infos []installerXML
	for _, p := range pkgInfos {
		data, err := x.readFile(p.f, p.path)
		if err != nil {
			return Info{}, err
		}
		m, err := parseInstallerXML(data)
		if err != nil {
			return Info{}, &Error{Kind: KindPlist, File: base,
				problem: "the .pkg's " + p.path + " is malformed: " + err.Error(), hint: hintProductbuild, Err: err}
		}
		infos = append(infos, m)
	}
	return pkgInfo(d, infos, base)
}

// pkgInfo merges what the Distribution and PackageInfo files say. The
// bundle ID is, in order, the Distribution's app <bundle id>, its
// <product id>, a PackageInfo's app <bundle id> and its <pkg-info
// identifier>. The versions come from bundles with that ID, then (the
// marketing version only) from <product version> and <pkg-info version>
// where those name the same ID.
func pkgInfo(d installerXML, infos []installerXML, base string) (Info, error) {
	info := Info{Kind: KindPKG, Platform: PlatformMacOS, UTI: UTIPKG, MinOSVersion: d.minOS}
	several := func(ids []string) error {
		return &Error{Kind: KindLayout, File: base,
			problem: fmt.Sprintf("the .pkg installs %d apps (%s); App Store Connect takes one app per package",
				len(ids), quoteList(ids)),
			hint: hintProductbuild}
	}

	app, ids := d.appBundle(d.productID)
	if ids != nil {
		return Info{}, several(ids)
	}
	info.BundleID = firstNonEmpty(app.id, d.productID)
	for _, m := range infos {
		if info.BundleID != "" {
			break
		}
		b, ids := m.appBundle("")
		if ids != nil {
			return Info{}, several(ids)
		}
		info.BundleID = firstNonEmpty(b.id, m.pkgInfoID)
	}
	if info.BundleID == "" {
		return Info{}, &Error{Kind: KindMissing, File: base,
			problem: "the .pkg names no bundle ID: it has no <bundle id>, <product id> or <pkg-info identifier>",
			hint:    hintProductbuild}
	}

	id := info.BundleID
	candidates := []bundleElem{d.bundleByID(id)}
	for _, m := range infos {
		candidates = append(candidates, m.bundleByID(id))
	}
	for _, b := range candidates {
		info.ShortVersion = firstNonEmpty(info.ShortVersion, b.short)
		info.BuildVersion = firstNonEmpty(info.BuildVersion, b.build)
	}
	if d.productID == "" || d.productID == id {
		info.ShortVersion = firstNonEmpty(info.ShortVersion, d.productVersion)
	}
	for _, m := range infos {
		if m.pkgInfoID == id {
			info.ShortVersion = firstNonEmpty(info.ShortVersion, m.pkgInfoVersion)
		}
	}
	if info.ShortVersion == "" {
		info.Missing = append(info.Missing, "CFBundleShortVersionString")
	}
	if info.BuildVersion == "" {
		info.Missing = append(info.Missing, "CFBundleVersion")
	}
	return info, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
