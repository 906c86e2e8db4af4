module httpsessions

go 1.23

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	mapscan/testdata/oracle v0.0.0
)

replace mapscan/testdata/oracle => ../../oracle
