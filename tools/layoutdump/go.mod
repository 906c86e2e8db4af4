module mapscan/tools/layoutdump

go 1.21
