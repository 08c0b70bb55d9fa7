// tls_echo: a Go crypto/tls server for configgen's zoo of servers. It listens on the
// address it is given (the tests pass 127.0.0.1:PORT), completes a TLS handshake with each
// client and echoes back whatever the client sends.
//
//	tls_echo -listen 127.0.0.1:PORT -cert CHAIN.pem -key KEY.pem
//	         [-min 1.2|1.3] [-max 1.2|1.3] [-curves P384,X25519,...] [-ciphers NAME,...]
//	         [-clientauth none|request|require -ca CA.pem]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
)

var versions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

var curves = map[string]tls.CurveID{
	"X25519": tls.X25519, "P256": tls.CurveP256, "P384": tls.CurveP384, "P521": tls.CurveP521,
}

var clientAuth = map[string]tls.ClientAuthType{
	"none": tls.NoClientCert, "request": tls.RequestClientCert,
	"require": tls.RequireAndVerifyClientCert,
}

func suiteIDs(names string) ([]uint16, error) {
	known := map[string]uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[s.Name] = s.ID
	}
	var ids []uint16
	for _, name := range strings.Split(names, ",") {
		id, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("unknown cipher suite %q", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func config() (*tls.Config, string, error) {
	listen := flag.String("listen", "", "address to listen on, e.g. 127.0.0.1:8443")
	certFile := flag.String("cert", "", "the server's chain, leaf first (PEM)")
	keyFile := flag.String("key", "", "the server's private key (PEM)")
	caFile := flag.String("ca", "", "CAs that sign client certificates (PEM)")
	auth := flag.String("clientauth", "none", "none, request or require")
	min := flag.String("min", "1.2", "lowest TLS version")
	max := flag.String("max", "1.3", "highest TLS version")
	curveNames := flag.String("curves", "", "key exchange groups in the server's order of preference")
	cipherNames := flag.String("ciphers", "", "TLS 1.2 cipher suites (Go names)")
	flag.Parse()
	if *listen == "" || *certFile == "" || *keyFile == "" {
		return nil, "", fmt.Errorf("-listen, -cert and -key are required")
	}
	pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return nil, "", err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: versions[*min],
		MaxVersion: versions[*max], ClientAuth: clientAuth[*auth]}
	if conf.MinVersion == 0 || conf.MaxVersion == 0 {
		return nil, "", fmt.Errorf("versions are 1.2 or 1.3")
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return nil, "", err
		}
		conf.ClientCAs = x509.NewCertPool()
		conf.ClientCAs.AppendCertsFromPEM(pem)
	}
	if *curveNames != "" {
		for _, name := range strings.Split(*curveNames, ",") {
			id, ok := curves[name]
			if !ok {
				return nil, "", fmt.Errorf("unknown curve %q", name)
			}
			conf.CurvePreferences = append(conf.CurvePreferences, id)
		}
	}
	if *cipherNames != "" {
		if conf.CipherSuites, err = suiteIDs(*cipherNames); err != nil {
			return nil, "", err
		}
	}
	return conf, *listen, nil
}

func main() {
	conf, address, err := config()
	if err != nil {
		log.Fatal(err)
	}
	listener, err := tls.Listen("tcp", address, conf)
	if err != nil {
		log.Fatal(err)
	}
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func(c net.Conn) {
			defer c.Close()
			if _, err := io.Copy(c, c); err != nil {
				log.Print(err)
			}
		}(conn)
	}
}
