/* flags_checksum.c — check digits of card, bank and national identity numbers (CONTRACT §8:
 * personal data "in national formats"), so a rule can tell a real number from any digits of
 * the same shape.
 *
 * A rule names one or more schemes (`checksum = dni, nir, cpf`); its value is kept when it
 * passes at least one. Each scheme checks the value's shape as well as its check digits (a
 * Spanish DNI is 8 digits and a letter, a French NIR 15 characters), so a value can only
 * pass the schemes whose shape it has. Separators (space, '-', '.', '/') are ignored.
 *
 * Invariants: pure functions of their bytes; read only [value, value + length); no
 * allocation.
 */
#include "flags_internal.h"

#include <stdint.h>
#include <string.h>

enum { NORMAL_MAX = 40 }; /* longest value a scheme needs (IBAN: 34) */

/* The value's letters and digits (upper case), without separators. Returns the count, or 0
 * when the value holds another byte or is too long. */
static size_t normalise(const char *v, size_t n, char out[NORMAL_MAX])
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ' ' || c == '-' || c == '.' || c == '/')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) || k == NORMAL_MAX)
            return 0;
        out[k++] = c;
    }
    return k;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static int digit(char c)
{
    return c - '0';
}

/* True when every digit is the same ("00000000000", "11111111111"): never a real number. */
static bool repeated(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (s[i] != s[0])
            return false;
    return true;
}

/* Sum of digits weighted from the left. */
static int weighted(const char *s, const int *weights, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += digit(s[i]) * weights[i];
    return sum;
}

/* Remainder of the decimal number s[0, n) divided by m. */
static unsigned mod_decimal(const char *s, size_t n, unsigned m)
{
    unsigned r = 0;
    for (size_t i = 0; i < n; i++)
        r = (r * 10 + (unsigned)digit(s[i])) % m;
    return r;
}

/* A date of birth written DDMMYY or YYMMDD: plausible day and month. */
static bool plausible_day_month(int day, int month)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* ---------------------------------------------------------------- international ---- */

/* Luhn (ISO/IEC 7812): payment cards, Canadian SIN, Israeli ID, South African ID. */
static bool luhn(const char *s, size_t n)
{
    if (!all_digits(s, n) || n < 8 || repeated(s, n))
        return false;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit(s[n - 1 - i]);
        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

/* IBAN (ISO 13616): mod 97 of the rearranged number is 1. */
static bool iban(const char *s, size_t n)
{
    if (n < 15 || n > 34 || s[0] < 'A' || s[1] < 'A' || !all_digits(s + 2, 2))
        return false;
    unsigned r = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[(i + 4) % n];
        r = c <= '9' ? (r * 10 + (unsigned)digit(c)) % 97
                     : (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    return r == 1;
}

/* Verhoeff: Indian Aadhaar (12 digits, not starting 0 or 1). */
static bool verhoeff(const char *s, size_t n)
{
    static const uint8_t d[10][10] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
        {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
        {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
        {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
        {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
    static const uint8_t p[8][10] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
        {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
        {9, 4, 5, 3, 1, 2, 8, 7, 6, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
        {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
    if (!all_digits(s, n) || n < 2 || repeated(s, n))
        return false;
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c = d[c][p[i % 8][digit(s[n - 1 - i])]];
    return c == 0;
}

/* -------------------------------------------------------------------- Europe ---- */

/* Spain: DNI (8 digits and a letter) and NIE (X, Y or Z, 7 digits, a letter); the letter is
 * the number mod 23. */
static bool dni(const char *s, size_t n)
{
    static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
    if (n != 9 || s[8] < 'A')
        return false;
    char number[9];
    memcpy(number, s, 8);
    if (s[0] == 'X' || s[0] == 'Y' || s[0] == 'Z')
        number[0] = (char)('0' + (s[0] - 'X'));
    if (!all_digits(number, 8))
        return false;
    return letters[mod_decimal(number, 8, 23)] == s[8];
}

/* France: NIR (numéro de sécurité sociale), 13 characters and a 2-digit key, 97 minus the
 * number mod 97 (Corsica's 2A and 2B count as 19 and 18). */
static bool nir(const char *s, size_t n)
{
    if (n != 15 || (s[0] != '1' && s[0] != '2' && s[0] != '7' && s[0] != '8'))
        return false;
    char number[13];
    memcpy(number, s, 13);
    if (number[5] == '2' && (number[6] == 'A' || number[6] == 'B')) {
        number[5] = '1';
        number[6] = number[6] == 'A' ? '9' : '8';
    }
    if (!all_digits(number, 13) || !all_digits(s + 13, 2))
        return false;
    int month = digit(s[3]) * 10 + digit(s[4]);
    if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50))
        return false;
    return 97 - mod_decimal(number, 13, 97) == (unsigned)(digit(s[13]) * 10 + digit(s[14]));
}

/* Poland: PESEL, 11 digits (a birth date with the century in the month) and a check digit. */
static bool pesel(const char *s, size_t n)
{
    static const int w[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    int month = (digit(s[2]) * 10 + digit(s[3])) % 20, day = digit(s[4]) * 10 + digit(s[5]);
    if (!plausible_day_month(day, month))
        return false;
    return (10 - weighted(s, w, 10) % 10) % 10 == digit(s[10]);
}

/* Netherlands: BSN, 9 digits passing the "11-proef" (weights 9…2, and -1 for the last). */
static bool bsn(const char *s, size_t n)
{
    static const int w[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    if (n != 9 || !all_digits(s, n) || repeated(s, n))
        return false;
    int sum = weighted(s, w, 8) - digit(s[8]);
    return sum > 0 && sum % 11 == 0;
}

/* Germany: Steuer-Identifikationsnummer, 11 digits, ISO 7064 MOD 11,10; in the first ten one
 * digit appears two or three times and every other at most once. */
static bool steuer_id(const char *s, size_t n)
{
    if (n != 11 || !all_digits(s, n) || s[0] == '0')
        return false;
    int counts[10] = {0}, repeated_digits = 0;
    for (int i = 0; i < 10; i++)
        counts[digit(s[i])]++;
    for (int d = 0; d < 10; d++) {
        if (counts[d] > 3)
            return false;
        repeated_digits += counts[d] >= 2;
    }
    if (repeated_digits != 1)
        return false;
    int product = 10;
    for (int i = 0; i < 10; i++) {
        int sum = (digit(s[i]) + product) % 10;
        if (sum == 0)
            sum = 10;
        product = (sum * 2) % 11;
    }
    int check = 11 - product;
    return (check == 10 ? 0 : check) == digit(s[10]);
}

/* Italy: codice fiscale, 16 characters; the last is a letter computed from the others. */
static bool codice_fiscale(const char *s, size_t n)
{
    /* value of a character in an odd (1st, 3rd, …) position: digits 0-9 like A-J */
    static const int odd[26] = {1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
                                20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};
    if (n != 16 || s[15] < 'A')
        return false;
    int sum = 0;
    for (int i = 0; i < 15; i++) {
        int v = s[i] <= '9' ? digit(s[i]) : s[i] - 'A';
        sum += i % 2 == 0 ? odd[v] : v;
    }
    return 'A' + sum % 26 == s[15];
}

/* Finland: henkilötunnus DDMMYY, century sign (removed by normalise when '-'), 3 digits, a
 * check character: the 9 digits mod 31. */
static bool hetu(const char *s, size_t n)
{
    static const char checks[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    char number[9];
    if (n == 11 && s[6] >= 'A') { /* DDMMYY A NNN C (the sign a letter: A-F, U-Y) */
        memcpy(number, s, 6);
        memcpy(number + 6, s + 7, 3);
    } else if (n == 10) { /* DDMMYY NNN C (the sign was '-') */
        memcpy(number, s, 9);
    } else {
        return false;
    }
    if (!all_digits(number, 9) || !plausible_day_month(digit(number[0]) * 10 + digit(number[1]),
                                                       digit(number[2]) * 10 + digit(number[3])))
        return false;
    return checks[mod_decimal(number, 9, 31)] == s[n - 1];
}

/* Sweden: personnummer (YY)YYMMDD-NNNC, Luhn over the last ten digits. */
static bool personnummer(const char *s, size_t n)
{
    if ((n != 10 && n != 12) || !all_digits(s, n))
        return false;
    const char *t = s + (n - 10);
    int month = digit(t[2]) * 10 + digit(t[3]), day = digit(t[4]) * 10 + digit(t[5]);
    if (day > 60)
        day -= 60; /* samordningsnummer */
    return plausible_day_month(day, month) && luhn(t, 10);
}

/* Norway: fødselsnummer, 11 digits with two mod 11 check digits. */
static bool fnr(const char *s, size_t n)
{
    static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
    static const int w2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    int day = digit(s[0]) * 10 + digit(s[1]), month = digit(s[2]) * 10 + digit(s[3]);
    if (day > 40)
        day -= 40; /* D-nummer */
    if (!plausible_day_month(day, month))
        return false;
    int k1 = 11 - weighted(s, w1, 9) % 11, k2 = 11 - weighted(s, w2, 10) % 11;
    k1 = k1 == 11 ? 0 : k1;
    k2 = k2 == 11 ? 0 : k2;
    return k1 != 10 && k2 != 10 && k1 == digit(s[9]) && k2 == digit(s[10]);
}

/* Belgium: national register number YYMMDD-NNN-CC, CC = 97 - number mod 97 (with a 2 in
 * front for births from 2000). */
static bool be_nrn(const char *s, size_t n)
{
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    int month = digit(s[2]) * 10 + digit(s[3]);
    if (month > 12 && !(month >= 21 && month <= 32) && !(month >= 41 && month <= 52))
        return false;
    unsigned check = (unsigned)(digit(s[9]) * 10 + digit(s[10]));
    unsigned before = 97 - mod_decimal(s, 9, 97);
    unsigned after = 97 - (2000000000ULL + (unsigned long long)mod_decimal(s, 9, 1000000000)) % 97;
    return check == before || check == after;
}

/* Switzerland: AHV/AVS number 756.NNNN.NNNN.NC, EAN-13 check digit. */
static bool ahv(const char *s, size_t n)
{
    if (n != 13 || !all_digits(s, n) || memcmp(s, "756", 3) != 0)
        return false;
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += digit(s[i]) * (i % 2 == 0 ? 1 : 3);
    return (10 - sum % 10) % 10 == digit(s[12]);
}

/* Romania: CNP, 13 digits, weights 279146358279 mod 11 (10 counts as 1). */
static bool cnp(const char *s, size_t n)
{
    static const int w[12] = {2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9};
    if (n != 13 || !all_digits(s, n) || s[0] == '0' || s[0] == '9')
        return false;
    if (!plausible_day_month(digit(s[5]) * 10 + digit(s[6]), digit(s[3]) * 10 + digit(s[4])))
        return false;
    int r = weighted(s, w, 12) % 11;
    return (r == 10 ? 1 : r) == digit(s[12]);
}

/* Turkey: T.C. Kimlik No, 11 digits, two check digits. */
static bool tckn(const char *s, size_t n)
{
    if (n != 11 || !all_digits(s, n) || s[0] == '0')
        return false;
    int odd = 0, even = 0, all = 0;
    for (int i = 0; i < 9; i++)
        *(i % 2 == 0 ? &odd : &even) += digit(s[i]);
    if (((odd * 7 - even) % 10 + 10) % 10 != digit(s[9]))
        return false;
    for (int i = 0; i < 10; i++)
        all += digit(s[i]);
    return all % 10 == digit(s[10]);
}

/* Ireland: PPS number, 7 digits, a check letter, optionally one more letter. */
static bool ppsn(const char *s, size_t n)
{
    static const char letters[] = "WABCDEFGHIJKLMNOPQRSTUV";
    static const int w[7] = {8, 7, 6, 5, 4, 3, 2};
    if ((n != 8 && n != 9) || !all_digits(s, 7) || s[7] < 'A' || (n == 9 && s[8] < 'A'))
        return false;
    int sum = weighted(s, w, 7) + (n == 9 && s[8] != 'W' ? (s[8] - 'A' + 1) * 9 : 0);
    return letters[sum % 23] == s[7];
}

/* United Kingdom: NHS number, 10 digits, mod 11. */
static bool nhs(const char *s, size_t n)
{
    static const int w[9] = {10, 9, 8, 7, 6, 5, 4, 3, 2};
    if (n != 10 || !all_digits(s, n) || repeated(s, n))
        return false;
    int check = 11 - weighted(s, w, 9) % 11;
    check = check == 11 ? 0 : check;
    return check != 10 && check == digit(s[9]);
}

/* Portugal: NIF, 9 digits, mod 11. */
static bool pt_nif(const char *s, size_t n)
{
    static const int w[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    if (n != 9 || !all_digits(s, n) || repeated(s, n))
        return false;
    int r = weighted(s, w, 8) % 11;
    return (r < 2 ? 0 : 11 - r) == digit(s[8]);
}

/* Estonia and Lithuania: isikukood / asmens kodas, 11 digits (century-sex digit 1-6, YYMMDD,
 * serial, check digit with two rounds of weights). */
static bool ee_ik(const char *s, size_t n)
{
    static const int w1[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1};
    static const int w2[10] = {3, 4, 5, 6, 7, 8, 9, 1, 2, 3};
    if (n != 11 || !all_digits(s, n) || s[0] < '1' || s[0] > '6' ||
        !plausible_day_month(digit(s[5]) * 10 + digit(s[6]), digit(s[3]) * 10 + digit(s[4])))
        return false;
    int r = weighted(s, w1, 10) % 11;
    if (r == 10) {
        r = weighted(s, w2, 10) % 11;
        r = r == 10 ? 0 : r;
    }
    return r == digit(s[10]);
}

/* Croatia: OIB, 11 digits, ISO 7064 MOD 11,10. */
static bool hr_oib(const char *s, size_t n)
{
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    int a = 10;
    for (size_t i = 0; i < 10; i++) {
        a = (a + digit(s[i])) % 10;
        a = (a == 0 ? 10 : a) * 2 % 11;
    }
    int check = 11 - a;
    return (check == 10 ? 0 : check) == digit(s[10]);
}

/* Hungary: TAJ (social insurance number), 9 digits, weights 3 and 7, mod 10. */
static bool hu_taj(const char *s, size_t n)
{
    static const int w[8] = {3, 7, 3, 7, 3, 7, 3, 7};
    return n == 9 && all_digits(s, n) && !repeated(s, n) && weighted(s, w, 8) % 10 == digit(s[8]);
}

/* Greece: AMKA, 11 digits, DDMMYY date of birth first, Luhn. */
static bool gr_amka(const char *s, size_t n)
{
    return n == 11 && all_digits(s, n) &&
           plausible_day_month(digit(s[0]) * 10 + digit(s[1]), digit(s[2]) * 10 + digit(s[3])) &&
           luhn(s, n);
}

/* ---------------------------------------------------------------- the Americas ---- */

/* Brazil: CPF, 11 digits with two mod 11 check digits. */
static bool cpf(const char *s, size_t n)
{
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    for (int k = 9; k <= 10; k++) {
        int sum = 0;
        for (int i = 0; i < k; i++)
            sum += digit(s[i]) * (k + 1 - i);
        int check = sum * 10 % 11 % 10;
        if (check != digit(s[k]))
            return false;
    }
    return true;
}

/* Argentina: CUIL/CUIT, 11 digits (type 20, 23, 24, 27, 30, 33, 34), mod 11. */
static bool ar_cuil(const char *s, size_t n)
{
    static const int w[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    if (n != 11 || !all_digits(s, n) || repeated(s, n))
        return false;
    int check = 11 - weighted(s, w, 10) % 11;
    check = check == 11 ? 0 : check;
    return check != 10 && check == digit(s[10]);
}

/* -------------------------------------------------------------------------- Asia ---- */

/* China: resident identity card, 17 digits and a check character (ISO 7064 MOD 11-2). */
static bool cn_id(const char *s, size_t n)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    if (n != 18 || !all_digits(s, 17))
        return false;
    int year = digit(s[6]) * 10 + digit(s[7]);
    if ((year != 19 && year != 20) ||
        !plausible_day_month(digit(s[12]) * 10 + digit(s[13]), digit(s[10]) * 10 + digit(s[11])))
        return false;
    return checks[weighted(s, w, 17) % 11] == s[17];
}

/* Singapore: NRIC/FIN S, T, F or G, 7 digits, a check letter. */
static bool nric(const char *s, size_t n)
{
    static const int w[7] = {2, 7, 6, 5, 4, 3, 2};
    if (n != 9 || !all_digits(s + 1, 7) || s[8] < 'A')
        return false;
    int sum = weighted(s + 1, w, 7) + (s[0] == 'T' || s[0] == 'G' ? 4 : 0);
    if (s[0] == 'S' || s[0] == 'T')
        return "JZIHGFEDCBA"[sum % 11] == s[8];
    if (s[0] == 'F' || s[0] == 'G')
        return "XWUTRQPNMLK"[sum % 11] == s[8];
    return false;
}

/* Japan: My Number (個人番号), 12 digits, mod 11. */
static bool my_number(const char *s, size_t n)
{
    if (n != 12 || !all_digits(s, n) || repeated(s, n))
        return false;
    int sum = 0;
    for (int k = 1; k <= 11; k++) /* k-th digit from the right, the check digit left out */
        sum += digit(s[11 - k]) * (k <= 6 ? k + 1 : k - 5);
    int r = sum % 11;
    return (r <= 1 ? 0 : 11 - r) == digit(s[11]);
}

/* South Korea: resident registration number YYMMDD-SNNNNNC (numbers issued before 2020). */
static bool kr_rrn(const char *s, size_t n)
{
    static const int w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
    if (n != 13 || !all_digits(s, n) ||
        !plausible_day_month(digit(s[4]) * 10 + digit(s[5]), digit(s[2]) * 10 + digit(s[3])))
        return false;
    return (11 - weighted(s, w, 12) % 11) % 10 == digit(s[12]);
}

/* Thailand: national identification number, 13 digits, mod 11. */
static bool th_id(const char *s, size_t n)
{
    if (n != 13 || !all_digits(s, n) || repeated(s, n) || s[0] == '0')
        return false;
    int sum = 0;
    for (size_t i = 0; i < 12; i++)
        sum += digit(s[i]) * (int)(13 - i);
    return (11 - sum % 11) % 10 == digit(s[12]);
}

/* Taiwan: national identification card, a letter (the place of registration), 1 or 2 (sex),
 * 8 digits; the letter counts as two digits. */
static bool tw_id(const char *s, size_t n)
{
    static const int area[26] = {10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
                                 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33};
    if (n != 10 || s[0] < 'A' || s[0] > 'Z' || !all_digits(s + 1, 9) ||
        (s[1] != '1' && s[1] != '2'))
        return false;
    int a = area[s[0] - 'A'];
    int sum = a / 10 + a % 10 * 9;
    for (size_t i = 1; i < 9; i++)
        sum += digit(s[i]) * (int)(9 - i);
    return (sum + digit(s[9])) % 10 == 0;
}

/* ------------------------------------------------------------------------ Oceania ---- */

/* Australia: tax file number, 9 digits, weights 1 4 3 7 5 8 6 9 10, mod 11. */
static bool tfn(const char *s, size_t n)
{
    static const int w[9] = {1, 4, 3, 7, 5, 8, 6, 9, 10};
    return n == 9 && all_digits(s, n) && !repeated(s, n) && weighted(s, w, 9) % 11 == 0;
}

/* -------------------------------------------------------------------------- table ---- */

static const struct {
    const char *name;
    bool (*valid)(const char *s, size_t n);
} schemes[] = {
    {"luhn", luhn},
    {"iban", iban},
    {"verhoeff", verhoeff},
    {"dni", dni},
    {"nir", nir},
    {"pesel", pesel},
    {"bsn", bsn},
    {"steuer_id", steuer_id},
    {"codice_fiscale", codice_fiscale},
    {"hetu", hetu},
    {"personnummer", personnummer},
    {"fnr", fnr},
    {"be_nrn", be_nrn},
    {"ahv", ahv},
    {"cnp", cnp},
    {"tckn", tckn},
    {"ppsn", ppsn},
    {"nhs", nhs},
    {"pt_nif", pt_nif},
    {"cpf", cpf},
    {"cn_id", cn_id},
    {"nric", nric},
    {"my_number", my_number},
    {"kr_rrn", kr_rrn},
    {"tfn", tfn},
    {"ee_ik", ee_ik},
    {"hr_oib", hr_oib},
    {"hu_taj", hu_taj},
    {"gr_amka", gr_amka},
    {"ar_cuil", ar_cuil},
    {"th_id", th_id},
    {"tw_id", tw_id},
};

_Static_assert(sizeof schemes / sizeof *schemes <= 32, "checksum masks are 32 bits");

int flag_checksum_named(const char *name)
{
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strcmp(schemes[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *flag_checksum_name(unsigned index)
{
    return index < sizeof schemes / sizeof *schemes ? schemes[index].name : NULL;
}

bool flag_checksum_valid(unsigned mask, const char *value, size_t length)
{
    char s[NORMAL_MAX];
    size_t n = normalise(value, length, s);
    if (n == 0)
        return false;
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if ((mask & (1u << i)) && schemes[i].valid(s, n))
            return true;
    return false;
}
