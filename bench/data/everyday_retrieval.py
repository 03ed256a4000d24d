"""An everyday-English retrieval set: product reviews and shop FAQ rows, and questions about them.

TOPICS: topic -> three rows written for it (a review or an FAQ answer). The corpus is every row
twice, once with a different lead-in and sign-off (`corpus()`), so each topic has six rows and
the corpus ~300. QUERIES: topic -> a question a customer would type, written apart from the rows
(it avoids their key words where English allows), so word overlap alone does not find them.
"""

from __future__ import annotations

import random

TOPICS: dict[str, list[str]] = {
    "refund": [
        "Refunds go back to the original card within five business days after the return reaches our warehouse.",
        "Once we inspect the returned item we credit your payment method; banks may take a few extra days.",
        "You can request a reimbursement from the Orders page; store credit is also offered if you prefer.",
    ],
    "shipping_time": [
        "Orders usually leave the warehouse within two business days and standard delivery takes three to five days.",
        "Expect your parcel about a week after checkout; express delivery arrives the next working day.",
        "Delivery estimates are shown at checkout and depend on the carrier and your postcode.",
    ],
    "tracking": [
        "A tracking number is emailed as soon as the carrier scans the box.",
        "Follow the courier link in your confirmation email to see where the shipment is right now.",
        "If the tracking page has not updated for three days, contact us and we will chase the carrier.",
    ],
    "cancel_order": [
        "An order can be cancelled free of charge until it is packed, usually within one hour.",
        "To stop a purchase, open Orders and press Cancel before the status changes to Dispatched.",
        "Orders already handed to the courier cannot be called off, but you can refuse the delivery.",
    ],
    "address_change": [
        "To update the delivery address, edit it under Orders before the item ships.",
        "Typed the wrong street? Write to support with the order number and the correct address.",
        "We cannot redirect a parcel after dispatch; the courier may let you pick another drop-off point.",
    ],
    "password": [
        "Forgot your password? Use the Reset link on the sign-in page and check your inbox.",
        "The reset email expires after 30 minutes; request a new one if the link no longer works.",
        "If you cannot log in after resetting, clear your browser cookies and try again.",
    ],
    "payment_methods": [
        "We accept Visa, Mastercard, American Express, PayPal and Apple Pay.",
        "Cash on delivery is not available, but you can pay by bank transfer for large orders.",
        "You can split a purchase into four interest-free instalments at checkout.",
    ],
    "warranty": [
        "Every appliance comes with a two-year manufacturer guarantee against defects.",
        "The guarantee covers faulty parts and repairs but not accidental damage or wear.",
        "To claim under the guarantee, keep your receipt and the serial number on the base.",
    ],
    "damaged_item": [
        "If your item arrived broken, send us a photo within 48 hours and we will replace it.",
        "The box was crushed and the glass jug had cracked; customer service sent a new one quickly.",
        "Report anything that came smashed or dented and keep the packaging for the courier's inspection.",
    ],
    "gift_card": [
        "Gift cards never expire and can be spent on anything in the store.",
        "You can check your gift card balance under Account, then Wallet.",
        "Digital gift vouchers are emailed instantly and can be scheduled for a birthday.",
    ],
    "international": [
        "We ship to over forty countries; import duties are paid by the recipient.",
        "Overseas deliveries take ten to fifteen days and customs may add a short delay.",
        "Orders outside the EU are charged without VAT, but local taxes may apply on arrival.",
    ],
    "size_exchange": [
        "Swapping sizes is free: start an exchange from the order and we send the new size first.",
        "The jacket was too small, so I traded it for a large and the exchange took a week.",
        "Exchanges for a different colour or fit are accepted within 30 days if the tags are attached.",
    ],
    "running_shoes": [
        "Wore these running sneakers for my first half marathon and had no blisters at all.",
        "Light, well cushioned trainers; my knees feel better after long runs.",
        "Great grip on wet roads and the foam still feels springy after 500 kilometres of jogging.",
    ],
    "hiking_boots": [
        "These boots stayed dry through streams and mud on a three-day trek.",
        "Sturdy ankle support on rocky trails, though they needed a week to break in.",
        "Waterproof leather uppers and a deep tread; perfect for mountain walks.",
    ],
    "blender": [
        "The blender crushes ice easily and makes smooth smoothies in seconds.",
        "Powerful motor, but it is very loud first thing in the morning.",
        "The jug is dishwasher safe and the blades handle frozen fruit without stalling.",
    ],
    "coffee_maker": [
        "This espresso machine makes a rich crema and heats up in under a minute.",
        "The drip coffee maker keeps the pot warm for two hours; the brew is strong and hot.",
        "Descaling is simple and the milk frother makes a decent cappuccino.",
    ],
    "garden_hose": [
        "This garden hose is sturdy, does not kink and reaches the whole lawn.",
        "The hose started leaking at the connector after one summer of watering.",
        "Expandable hose, light to carry, though the nozzle sprays unevenly.",
    ],
    "tent": [
        "The tent kept us completely dry during a rainy weekend of camping.",
        "Pitching it took ten minutes; the poles are colour coded.",
        "Roomy for two adults and a dog, but the zipper on the door snagged.",
    ],
    "headphones_battery": [
        "The wireless headphones last about thirty hours on one charge.",
        "Battery life is poor: the earbuds die after two hours of music.",
        "A ten-minute top-up gives three hours of listening, handy before a flight.",
    ],
    "noise_cancelling": [
        "Active noise cancelling blocks out the engine hum on planes completely.",
        "These cans silence the open-plan office so I can focus.",
        "Noise reduction works on trains, though wind still gets through outdoors.",
    ],
    "vacuum_pet_hair": [
        "This vacuum picks up dog hair from the carpet in a single pass.",
        "The cordless hoover struggles with cat fur on the sofa.",
        "Brush roll never tangles, even with our husky shedding every day.",
    ],
    "mattress": [
        "After two weeks on this mattress my lower back pain is gone.",
        "Medium-firm foam that keeps its shape; I wake up without aches.",
        "The bed sleeps hot and my partner's movements wake me up.",
    ],
    "backpack": [
        "The rucksack fits a 15-inch laptop and has a padded back panel.",
        "Comfortable straps even when loaded with books for my commute.",
        "The bag's water-resistant fabric kept my papers dry in a downpour.",
    ],
    "phone_case": [
        "The case survived several drops onto concrete without a scratch on the phone.",
        "Slim cover, grippy sides, and the buttons still click properly.",
        "The cover yellowed after a month and the corners started peeling.",
    ],
    "novel": [
        "A gripping thriller; I read the whole book in one weekend.",
        "The plot drags in the middle, but the ending is a great twist.",
        "Beautifully written story about two sisters; the characters feel real.",
    ],
    "kids_toy": [
        "My four-year-old plays with these building blocks every day.",
        "The toy car's wheels came off within a week; not sturdy enough for toddlers.",
        "A puzzle set that kept the children busy for hours on a rainy afternoon.",
    ],
    "sunscreen": [
        "The SPF 50 lotion does not leave a white cast and I did not burn at the beach.",
        "Sun cream that absorbs quickly and is not greasy under makeup.",
        "It stung my eyes when I sweated during a run.",
    ],
    "dog_food": [
        "Our labrador loves this kibble and his coat is shinier.",
        "Grain-free dry food that settled my puppy's upset stomach.",
        "The cat would not touch the new flavour of wet food.",
    ],
    "laptop_battery": [
        "The laptop runs a full workday on battery with the screen at half brightness.",
        "Gets hot under load and the fan is noisy when compiling code.",
        "The notebook charges to 80% in forty minutes with the bundled USB-C adapter.",
    ],
    "tv_picture": [
        "The television's picture is sharp and colours are vivid in a bright room.",
        "Blacks look grey on this screen when watching films at night.",
        "Setting up the smart TV and its streaming apps took five minutes.",
    ],
    "printer": [
        "The printer constantly jams and the ink cartridges cost a fortune.",
        "Wireless printing from my phone works every time.",
        "Scans are crisp and the duplex printing saves paper.",
    ],
    "kettle": [
        "The electric kettle boils a litre of water in under three minutes.",
        "It has a limescale filter and the lid opens with one hand.",
        "The kettle leaked from the base after two months.",
    ],
    "air_fryer": [
        "The air fryer makes crispy chips with a spoonful of oil.",
        "Chicken wings come out golden in twenty minutes; the basket is easy to clean.",
        "Too small to cook for a family of four in one go.",
    ],
    "winter_jacket": [
        "This coat kept me warm at minus fifteen while waiting for the bus.",
        "The parka is cosy but the hood is too shallow in strong wind.",
        "A down jacket that packs into its own pocket for travel.",
    ],
    "jeans_fit": [
        "These jeans run small; order one size up.",
        "The denim stretched after a day and now sags at the knees.",
        "Perfect fit around the waist and long enough for tall people.",
    ],
    "watch": [
        "The smartwatch tracks my sleep and heart rate accurately.",
        "GPS takes ages to lock on before a run.",
        "The strap is comfortable and the display is readable in sunlight.",
    ],
    "bike": [
        "The bicycle was easy to assemble and the gears shift smoothly.",
        "The brakes squeal on downhill rides and needed adjusting.",
        "A light frame that makes my hilly commute far easier.",
    ],
    "yoga_mat": [
        "The mat is thick enough to protect my knees and does not slip.",
        "It smelled of rubber for the first week.",
        "Non-slip surface even during hot yoga sessions.",
    ],
    "cookware": [
        "The non-stick frying pan releases eggs without any butter.",
        "The coating on this skillet scratched within a month.",
        "The saucepans heat evenly and work on our induction hob.",
    ],
    "skincare": [
        "This moisturiser calmed my dry, flaky skin in a few days.",
        "The face cream broke me out in spots.",
        "A gentle cleanser that does not leave my face tight.",
    ],
    "subscription": [
        "You can pause or end your membership at any time from Account settings.",
        "Your plan renews automatically each month unless you switch off auto-renewal.",
        "Cancelling the subscription keeps access until the end of the billing period.",
    ],
    "store_hours": [
        "Our shops are open nine to six Monday to Saturday and closed on Sundays.",
        "On public holidays the stores close early at four in the afternoon.",
        "The flagship store stays open until nine on Thursdays.",
    ],
    "contact_support": [
        "Reach customer service by live chat, seven days a week from eight to eight.",
        "You can phone our help line or email us and we reply within one working day.",
        "For urgent problems use the chat button at the bottom of any page.",
    ],
    "price_match": [
        "If you find the same item cheaper elsewhere, we will match the price.",
        "Price matching applies to identical products from major retailers, not marketplaces.",
        "Bought it and the price dropped a week later? We refund the difference within 14 days.",
    ],
    "student_discount": [
        "Students get 10% off with a valid university email address.",
        "Verify your student status once and the discount applies to every order for a year.",
        "Teachers and nurses also receive a discount at checkout.",
    ],
    "privacy": [
        "We never sell your personal data; see the privacy policy for what we collect.",
        "You can download or delete your account data from the Privacy page.",
        "Marketing emails are only sent if you opt in, and you can unsubscribe anytime.",
    ],
    "assembly": [
        "The wardrobe came with clear instructions and took two hours to put together.",
        "Screws were missing from the flat-pack desk and the holes did not line up.",
        "We offer an assembly service for furniture at a fixed fee.",
    ],
    "plant": [
        "The houseplant arrived healthy and well packed, with new leaves already.",
        "The fern dried out within a week despite regular watering.",
        "Low-light tolerant and almost impossible to kill, ideal for beginners.",
    ],
    "camera": [
        "Photos are sharp even in dim restaurants and the autofocus is fast.",
        "Video footage is shaky without a gimbal.",
        "The compact camera fits in a pocket and the zoom is impressive.",
    ],
    "loyalty_points": [
        "Earn one point for every pound spent and redeem them at checkout.",
        "Points expire after twelve months without a purchase.",
        "Members get double points on their birthday month.",
    ],
}

QUERIES: dict[str, str] = {
    "refund": "how do I get my money back",
    "shipping_time": "when will my package arrive",
    "tracking": "where is my parcel at the moment",
    "cancel_order": "I changed my mind right after buying, can I stop it",
    "address_change": "I put in the wrong place to send it to",
    "password": "can't sign in, forgot my login details",
    "payment_methods": "can I pay with a credit card or paypal",
    "warranty": "is there a guarantee if it breaks after a year",
    "damaged_item": "my order came broken",
    "gift_card": "do vouchers run out",
    "international": "do you send orders abroad",
    "size_exchange": "the shirt doesn't fit, can I get a bigger one",
    "running_shoes": "comfortable shoes for a marathon",
    "hiking_boots": "footwear for walking in the hills that keeps feet dry",
    "blender": "a good machine for making frozen fruit drinks",
    "coffee_maker": "something to brew a latte at home",
    "garden_hose": "something to water the yard that won't twist",
    "tent": "shelter for sleeping outdoors that survives a storm",
    "headphones_battery": "earphones that don't need charging often",
    "noise_cancelling": "headset to block sound on a flight",
    "vacuum_pet_hair": "cleaner that gets fur off rugs",
    "mattress": "a bed that helps with an aching back",
    "backpack": "bag to carry my computer to work",
    "phone_case": "protection for my mobile if I drop it",
    "novel": "a page-turner to read on holiday",
    "kids_toy": "present for a toddler",
    "sunscreen": "stop sunburn on vacation",
    "dog_food": "what to feed my puppy",
    "laptop_battery": "a computer that lasts all day unplugged",
    "tv_picture": "a screen with great image quality",
    "printer": "device for putting documents on paper",
    "kettle": "boil water fast for tea",
    "air_fryer": "make fries without deep frying",
    "winter_jacket": "keep warm in freezing weather",
    "jeans_fit": "do these trousers come up small",
    "watch": "wearable that counts my heartbeat",
    "bike": "cycling to the office",
    "yoga_mat": "something soft to exercise on the floor",
    "cookware": "pans that food doesn't stick to",
    "skincare": "lotion for dry face",
    "subscription": "how do I stop my monthly plan",
    "store_hours": "what time do you shut on weekends",
    "contact_support": "how can I talk to a person about a problem",
    "price_match": "found it for less at another shop",
    "student_discount": "is there a deal for people at college",
    "privacy": "do you share my information with others",
    "assembly": "how hard is it to build the furniture",
    "plant": "greenery for my flat that's hard to kill",
    "camera": "take pictures in low light",
    "loyalty_points": "rewards for shopping with you",
}

_LEAD = ["", "Update: ", "Review: ", "FAQ: ", "Honestly, ", "Quick note: ", "Verified buyer. ", "From our help centre: "]
_SIGN = ["", " Would buy again.", " Hope this helps.", " Three stars.", " Thanks!", " Five stars from me.",
         " See the help centre for more.", " Delivered on time."]


def corpus(seed: int = 7) -> tuple[list[str], list[str]]:
    """(rows, topic of each row): every written row twice, with different framing, shuffled."""
    rng = random.Random(seed)
    rows, topics = [], []
    for topic, texts in TOPICS.items():
        for text in texts:
            for _ in range(2):
                rows.append(rng.choice(_LEAD) + text + rng.choice(_SIGN))
                topics.append(topic)
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], [topics[i] for i in order]
