// A self-signed certificate for the local simulated Azure only (CN "batch-cert-auditor simulator",
// SAN localhost, 127.0.0.1, ::1). It protects nothing: it exists so that the Azure SDK clients, which refuse
// bearer tokens over plain http, can run their real authentication flow against loopback.
export const SIMULATOR_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIB1TCCAXqgAwIBAgIUBR+VROGnREDNOXxuuViftsCphBcwCgYIKoZIzj0EAwIw
JzElMCMGA1UEAwwcYmF0Y2gtY2VydC1hdWRpdG9yIHNpbXVsYXRvcjAgFw0yNjEx
MjYxODU1MzJaGA8yMTI2MTEwMjE4NTUzMlowJzElMCMGA1UEAwwcYmF0Y2gtY2Vy
dC1hdWRpdG9yIHNpbXVsYXRvcjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJeK
UmpCIuCbHxlqnRio21R48zoox8rOsADKT2xfHjwNqGCLKZnsHdiZaOiXlZqD/PDW
97gUFoE1tLbrP6wuGGmjgYEwfzAdBgNVHQ4EFgQUXvwfaUP6u7J5f9aO6uVmu2tN
KDswHwYDVR0jBBgwFoAUXvwfaUP6u7J5f9aO6uVmu2tNKDswDwYDVR0TAQH/BAUw
AwEB/zAsBgNVHREEJTAjgglsb2NhbGhvc3SHBH8AAAGHEAAAAAAAAAAAAAAAAAAA
AAEwCgYIKoZIzj0EAwIDSQAwRgIhALU61P7hcgJTd8O8U/gg5YHydXgesnXidQyF
3U5VVKLcAiEAiY8SKTLxJ/wADEr06CfOGSSAiE59vHJf/jOwQkIuPPU=
-----END CERTIFICATE-----`;

export const SIMULATOR_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1Ii72QRQR3J328vy
h6+qat4olBIn82tJfOjgSYwyf+OhRANCAASXilJqQiLgmx8Zap0YqNtUePM6KMfK
zrAAyk9sXx48DahgiymZ7B3YmWjol5Wag/zw1ve4FBaBNbS26z+sLhhp
-----END PRIVATE KEY-----`;
