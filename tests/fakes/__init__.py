"""Test doubles for the outside world: fakes, not monkeypatches.

The fake Telegram Bot API, one concern a module. Tests import from the two entry points:

* ``telegram``: the in-process transport (:class:`FakeTelegram`, a PTB ``BaseRequest``), and
  the names tests use from the modules below;
* ``http_telegram``: the same fake served over HTTP to a bot running as a process.

Both sit on the same parts:

* ``server``: the Bot API itself: records, fault injection, assertions, answering a request;
* ``state``: the chats it keeps and the methods that read and change them;
* ``checks``: Telegram's rules on parameters, lengths, HTML, keyboards and commands;
* ``spec``: the methods and parameter types of ``api.json``;
* ``html``: Telegram's HTML parse mode (a port of TDLib's parser);
* ``records``: the recorded :class:`Call`, the journal of violations, error answers;
* ``objects``: the JSON vocabulary (the bot's identity, ``ChatMember``, chat keys);
* ``updates``: builders of incoming updates (JSON payloads and PTB ``Update`` objects);
* ``form`` and ``flood``: the HTTP fake's request decoding and flood limits.
"""
