#!/usr/bin/python3
# The work of the tg-fetch + tg-send benchmark done by python-telegram-bot
# (Debian's python3-python-telegram-bot, 13.x): long-poll getUpdates and
# answer every text message once (PTB 13 predates business messages, so
# the benchmark uses direct chats only).  Run by tests/bench/telegram; stops on
# SIGTERM.  Usage: ptb-echo.py BASE_URL TOKEN
import logging
import signal
import sys
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)

from telegram.ext import Filters, MessageHandler, Updater  # noqa: E402


def answer(update, context):
    msg = update.effective_message
    if msg is None or msg.text is None:
        return
    context.bot.send_message(chat_id=msg.chat_id, text="re: " + msg.text)


def main():
    base, token = sys.argv[1], sys.argv[2]
    updater = Updater(token=token, base_url=base + "/bot", use_context=True,
                      workers=1)
    updater.dispatcher.add_handler(MessageHandler(Filters.text, answer))
    updater.start_polling(poll_interval=0.0, timeout=10)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    updater.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    main()
