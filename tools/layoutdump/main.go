// Command layoutdump prints the layout of the Go runtime's own structures
// as the DWARF of one Go binary describes them, for tools/gen-layouts.py,
// which turns the dumps of every supported toolchain into
// lib/golayout_data.c: the types mapscan uses for a binary without DWARF.
//
//	go run ./tools/layoutdump BINARY TYPE... [-var NAME...]
//
// Each named type is printed with its members, and so is every struct or
// array it holds by value (their members' offsets are what mapscan reads);
// a type only pointed to is printed without members.  -var names runtime
// variables: their types are printed, and a line "V name type".  One line
// per type, fields separated by tabs:
//
//	kind name size gokind target elem key count nmembers {member offset type embedded}
//
// kind is the letter of mapscan's enum gkind the DWARF loader (lib/dwarf.c)
// would choose; target, elem and key are type names ("" for none).  Lines
// are sorted, so the output of one binary is always the same.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Go's own DWARF attributes (cmd/internal/dwarf).
const (
	attrGoKind = dwarf.Attr(0x2900)
	attrGoKey  = dwarf.Attr(0x2901)
	attrGoElem = dwarf.Attr(0x2902)
	attrGoEmb  = dwarf.Attr(0x2903)
)

const (
	kindChan   = 18
	kindFunc   = 19
	kindIface  = 20
	kindMap    = 21
	kindSlice  = 23
	kindString = 24
)

type member struct {
	name   string
	off    int64
	typ    dwarf.Offset
	embedd bool
}

type entry struct {
	tag               dwarf.Tag
	name              string
	size              int64
	goKind            int64
	target, elem, key dwarf.Offset
	count             int64
	members           []member
}

var types = map[dwarf.Offset]*entry{}
var byName = map[string]dwarf.Offset{}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "layoutdump: "+format+"\n", a...)
	os.Exit(1)
}

func off(e *dwarf.Entry, a dwarf.Attr) dwarf.Offset {
	if v, ok := e.Val(a).(dwarf.Offset); ok {
		return v
	}
	return 0
}

func num(e *dwarf.Entry, a dwarf.Attr) int64 {
	switch v := e.Val(a).(type) {
	case int64:
		return v
	case uint64:
		return int64(v)
	}
	return -1
}

func load(path string) map[string]dwarf.Offset {
	f, err := elf.Open(path)
	if err != nil {
		die("%v", err)
	}
	d, err := f.DWARF()
	if err != nil {
		die("%s: %v", path, err)
	}
	vars := map[string]dwarf.Offset{}
	r := d.Reader()
	var cur *entry
	for {
		e, err := r.Next()
		if err != nil {
			die("%s: %v", path, err)
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			cur = nil
			continue
		}
		switch e.Tag {
		case dwarf.TagMember:
			if cur != nil {
				o := num(e, dwarf.AttrDataMemberLoc)
				emb, _ := e.Val(attrGoEmb).(bool)
				cur.members = append(cur.members, member{name: str(e), off: o, typ: off(e, dwarf.AttrType), embedd: emb})
			}
			continue
		case dwarf.TagSubrangeType:
			if cur != nil {
				if c := num(e, dwarf.AttrCount); c >= 0 {
					cur.count = c
				} else if u := num(e, dwarf.AttrUpperBound); u >= 0 {
					cur.count = u + 1
				}
			}
			continue
		case dwarf.TagVariable:
			if e.Val(dwarf.AttrLocation) != nil {
				vars[str(e)] = off(e, dwarf.AttrType)
			}
		case dwarf.TagBaseType, dwarf.TagPointerType, dwarf.TagStructType, dwarf.TagArrayType,
			dwarf.TagTypedef, dwarf.TagSubroutineType, dwarf.TagUnspecifiedType:
			t := &entry{tag: e.Tag, name: str(e), size: num(e, dwarf.AttrByteSize), goKind: num(e, attrGoKind) & 0x1f,
				target: off(e, dwarf.AttrType), elem: off(e, attrGoElem), key: off(e, attrGoKey)}
			if t.size < 0 {
				t.size = 0
			}
			if num(e, attrGoKind) < 0 {
				t.goKind = 0
			}
			types[e.Offset] = t
			if _, seen := byName[t.name]; !seen && t.name != "" {
				byName[t.name] = e.Offset
			}
			if e.Children {
				cur = t
			}
			continue
		}
		if e.Tag == dwarf.TagSubprogram && e.Children {
			r.SkipChildren() // locals: not runtime types
		}
	}
	return vars
}

func str(e *dwarf.Entry) string {
	s, _ := e.Val(dwarf.AttrName).(string)
	return s
}

// kind is the gkind lib/dwarf.c gives the entry.
func kind(t *entry) string {
	switch t.tag {
	case dwarf.TagBaseType:
		return "BASE"
	case dwarf.TagPointerType:
		return "PTR"
	case dwarf.TagStructType:
		switch t.goKind {
		case kindSlice:
			return "SLICE"
		case kindString:
			return "STRING"
		}
		return "STRUCT"
	case dwarf.TagArrayType:
		return "ARRAY"
	case dwarf.TagTypedef:
		switch t.goKind {
		case kindMap:
			return "MAP"
		case kindChan:
			return "CHAN"
		case kindIface:
			return "IFACE"
		case kindFunc:
			return "FUNC"
		}
		return "TYPEDEF"
	case dwarf.TagSubroutineType:
		return "FUNC"
	}
	return "OTHER"
}

func name(o dwarf.Offset) string {
	if t := types[o]; t != nil {
		return t.name
	}
	return ""
}

func main() {
	if len(os.Args) < 3 {
		die("usage: layoutdump BINARY TYPE... [-var NAME...]")
	}
	vars := load(os.Args[1])
	full := map[dwarf.Offset]bool{}  // printed with members
	shown := map[dwarf.Offset]bool{} // printed at all
	var expand func(o dwarf.Offset)
	// A type only pointed to is shown, and what it points to (one level:
	// a pointer to an opaque struct of the right size, rather than to
	// nothing, which would read as unsafe.Pointer).
	var show func(o dwarf.Offset, depth int)
	show = func(o dwarf.Offset, depth int) {
		t := types[o]
		if t == nil || t.name == "" {
			return
		}
		shown[byName[t.name]] = true
		if depth < 2 && (kind(t) == "PTR" || kind(t) == "SLICE") {
			show(t.target, depth+1)
			show(t.elem, depth+1)
		}
	}
	expand = func(o dwarf.Offset) {
		if t := types[o]; t != nil && t.name != "" {
			o = byName[t.name]
		}
		t := types[o]
		if t == nil || full[o] {
			return
		}
		full[o] = true
		shown[o] = true
		show(t.target, 0)
		show(t.elem, 0)
		show(t.key, 0)
		k := kind(t)
		if k == "ARRAY" {
			expand(t.target) // held by value
		}
		if k == "TYPEDEF" {
			expand(t.target)
		}
		for _, m := range t.members {
			if mt := types[m.typ]; mt != nil {
				switch kind(mt) {
				case "STRUCT", "ARRAY", "TYPEDEF", "SLICE", "STRING":
					expand(m.typ)
				default:
					show(m.typ, 0)
				}
			}
		}
	}
	var varLines []string
	isVar := false
	for _, a := range os.Args[2:] {
		if a == "-var" {
			isVar = true
			continue
		}
		if isVar {
			if o, ok := vars[a]; ok {
				expand(o)
				varLines = append(varLines, fmt.Sprintf("V\t%s\t%s", a, name(o)))
			}
			continue
		}
		if o, ok := byName[a]; ok {
			expand(o)
		}
	}
	// Types are named in the table; where DWARF has two types of one name
	// (a typedef and its struct), the first, as gtypes_find finds it.
	var lines []string
	for o := range shown {
		t := types[o]
		if t.name == "" || byName[t.name] != o {
			continue
		}
		var b strings.Builder
		elem, target := t.elem, t.target
		if kind(t) == "ARRAY" {
			elem, target = t.target, 0
		}
		fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d", kind(t), t.name, t.size, t.goKind,
			name(target), name(elem), name(t.key), t.count)
		if full[o] {
			fmt.Fprintf(&b, "\t%d", len(t.members))
			for _, m := range t.members {
				e := 0
				if m.embedd {
					e = 1
				}
				fmt.Fprintf(&b, "\t%s\t%d\t%s\t%d", m.name, m.off, name(m.typ), e)
			}
		} else {
			b.WriteString("\t-")
		}
		lines = append(lines, b.String())
	}
	sort.Strings(lines)
	sort.Strings(varLines)
	for _, l := range lines {
		fmt.Println(l)
	}
	for _, l := range varLines {
		fmt.Println(l)
	}
}
