{
  "targets": [
    {
      "target_name": "offhook_relay",
      "sources": ["server/media/native/relay.c", "server/media/native/srtp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["server/media/native/relay.c", "server/media/native/srtp.c"]}]]
    }
  ]
}
