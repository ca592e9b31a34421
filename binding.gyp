{
  "targets": [
    {
      "target_name": "offhook_relay",
      "sources": ["server/media/native/relay.c", "server/media/native/srtp.c", "server/media/native/open-files.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["server/media/native/relay.c", "server/media/native/srtp.c", "server/media/native/open-files.c"]}]]
    }
  ]
}
