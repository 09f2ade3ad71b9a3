"""Sentences that tell a Signal user to type a number where Telegram and the web say "press".

Signal has no buttons: options come as numbered lines. A sentence that names buttons has its
Signal twin here; the voice of a Signal chat says the twin (see Voice._).
"""

from __future__ import annotations

from bot.i18n import N_

BY_NUMBER = {
    N_("I can only read text and buttons. Please use the buttons."): N_(
        "I can only read text. Please type the number of an option."
    ),
    N_("Sorry, I did not understand that. Please use the buttons."): N_(
        "Sorry, I did not understand that. Please type the number of an option."
    ),
    N_("This button no longer works. Please use the menu."): N_(
        "This number no longer works. Please type /menu."
    ),
    N_("Which days are good for you? Press all that fit, then press Done."): N_(
        "Which days are good for you? Type the number of each day that fits, "
        "then the number of Done."
    ),
    N_(
        "Your coach will know that you cannot come. Do you want to tell them why? "
        "Write a short message, or press Skip."
    ): N_(
        "Your coach will know that you cannot come. Do you want to tell them why? "
        "Write a short message, or type the number of Skip."
    ),
    N_(
        "Because of a fault on our side, your button press did not reach us. "
        "Please press the button again in a minute."
    ): N_(
        "Because of a fault on our side, your answer did not reach us. "
        "Please type the number again in a minute."
    ),
    N_("You can also press the buttons. For other questions, please talk to your coach."): N_(
        "You can also type the numbers of the options. "
        "For other questions, please talk to your coach."
    ),
}
